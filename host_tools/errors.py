"""The one exception type that host commands raise for a user-facing failure."""


class CopflowError(Exception):
    """A failure the user can act on; the CLI prints it as one line and exits non-zero."""
