"""Where the project's own folders are, found relative to this package."""

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = PROJECT_ROOT / "firmware"
DATA_DIR = PROJECT_ROOT / "host_tools" / "data"


def import_firmware() -> Path:
    """Make the firmware's board-style imports (`import core.model`) work under CPython.

    On a board the flash root is on the import path; on the host the
    `firmware/` folder plays that role.
    """
    folder = str(FIRMWARE_DIR)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return FIRMWARE_DIR


def cache_dir() -> Path:
    """The per-user cache (XDG_CACHE_HOME, else ~/.cache), under copflow/: compiled
    artefacts that are keyed by their inputs and can always be rebuilt."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "copflow"
