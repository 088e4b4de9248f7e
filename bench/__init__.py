"""Benchmarks (run from the project folder as modules, e.g. `python -m bench.bench_draft`); they print tables and assert nothing."""
