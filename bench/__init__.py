"""Provides the benchmarks (run them as scripts: `python bench/claims.py`)."""
