"""Numba kernels. Kernels trust their inputs (validated by the callers) and import nothing of tabxai."""
