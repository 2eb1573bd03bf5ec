"""Benchmarks with baselines, against the speed bars in shared/design/quality.md."""
