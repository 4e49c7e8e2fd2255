"""Tuning: the sweeps and fits that set shipped constants (confidence weights, abstention threshold, reader
budget, int8 encoder). See eval/README.md."""
