"""The package version, in one place: the build reads it (pyproject ``tool.setuptools.dynamic``)."""

__version__ = "0.1.0"
