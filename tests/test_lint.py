"""The project's own code passes ruff (the rules are in pyproject.toml)."""

import subprocess
import sys

from host_tools.paths import PROJECT_ROOT


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             str(PROJECT_ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
