import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are deterministic by default, so a run (and CI) can never
# fail on a new random draw; every counter-example found is pinned with
# @example. Explore with fresh randomness on purpose:
#   HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest -q
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "firmware", ROOT / "tests" / "fw"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


FW_TESTS = ROOT / "tests" / "fw"


@pytest.fixture(autouse=True)
def _fw_tests_in_their_own_folder(request, tmp_path, monkeypatch):
    """The portable firmware tests use paths relative to the current folder (on the
    host MicroPython that is the flash root): under CPython each runs in its own
    empty folder, so parallel workers never share files and nothing lands in the tree."""
    if Path(str(request.node.path)).is_relative_to(FW_TESTS):
        monkeypatch.chdir(tmp_path)
