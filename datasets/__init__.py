"""Bundled raw data files for :mod:`tabxai.datasets` (see README.md)."""
