"""The firmware type-checks against the MicroPython stubs of both boards."""

import pytest

from host_tools.typecheck import BOARDS, check


@pytest.mark.parametrize("board", BOARDS)
def test_firmware_typechecks_against_board_stubs(board):
    result = check(board)
    assert result.files > 0
    assert result.errors == 0, "\n".join(result.diagnostics)


def test_the_check_reports_real_type_errors(tmp_path):
    src = tmp_path / "firmware"  # one bad module: checked as firmware/ is, rules included
    src.mkdir()
    (src / "bad_esp32.py").write_text(
        "import time\nimport esp32\n\ndef f() -> int:\n    return time.ticks_diff('a', 3)\n")
    result = check("esp32", src)
    assert result.errors >= 1
    assert any("bad_esp32.py:5" in d for d in result.diagnostics)
    # A module named *_esp32.py is ESP32-only: the RP2 run leaves it out.
    assert check("rp2", src).errors == 0
