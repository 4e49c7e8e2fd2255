"""Measures qa/ and index/ from outside, in three rooms: quality/, tuning/, bench/ (index: eval/README.md).

Nothing at run time imports eval/; `qa eval` reaches the seed eval only through `eval.cli.main`."""
