"""mambaboot: bootstrap self-contained conda environments with micromamba, then get out of the way."""

__version__ = "0.1.0"
