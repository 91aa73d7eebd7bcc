"""Run the portable firmware tests (tests/fw) on the host MicroPython, one item per module."""

import re
from pathlib import Path

import pytest

from host_tools.micropython import make_flash, run_micropython

FW_TESTS = Path(__file__).parent / "fw"
MODULES = sorted(p.stem for p in FW_TESTS.glob("test_*.py"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


@pytest.fixture(scope="module")
def flash(tmp_path_factory):
    extra = {p.name: p for p in FW_TESTS.glob("*.py")}
    return make_flash(tmp_path_factory.mktemp("flash"), extra=extra)


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_on_micropython(flash, module):
    result = run_micropython(["/run_fw_tests.py", module], flash, heap="32M", timeout_s=120)
    output = result.stdout + result.stderr
    match = SUMMARY.search(result.stdout)
    assert match, f"no summary line from MicroPython:\n{output}"
    passed, failed = int(match.group(1)), int(match.group(2))
    assert failed == 0 and result.returncode == 0, output
    assert passed >= 1, output
