"""The `sm-mlops` command. `__version__` is the project's one version number (setup.cfg reads it)."""

__version__ = "0.3.0"
