"""smartco: the root command and the quickstart that runs the whole pipeline."""

__version__ = "0.1.0"
