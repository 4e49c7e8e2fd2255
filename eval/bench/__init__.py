"""Benchmarks: speed, load, write cost, scale and peers. See eval/README.md."""
