"""tabxai: explain any tabular model from its prediction function alone."""

__version__ = "0.1.0.dev0"
