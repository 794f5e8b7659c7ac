"""tabxai benchmarks: every figure is a ratio measured in the same run (see docs/benchmarks.md)."""
