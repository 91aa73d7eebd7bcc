import os
import sys
from pathlib import Path

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
