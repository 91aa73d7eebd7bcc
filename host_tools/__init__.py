"""Host tools for copflow: the `copflow` command and everything it drives."""

__version__ = "0.1.0"
