"""The console's help and completion come from the firmware's tables and cannot drift;
status lines read as names and `missing` (issue 14)."""

import pytest

from host_tools.commands import console
from host_tools.errors import CopflowError
from host_tools.link import Response
from host_tools.paths import import_firmware


def test_every_board_command_has_help():
    import_firmware()
    import console as fw_console  # firmware/console.py

    board = set(fw_console._COMMANDS) | set(fw_console._EXTRA)
    assert board == set(console.BOARD_HELP)
    text = console.help_text()
    for name in ("tel", "mem", "param", "pin", "lock", "watch", "reset"):
        assert f"\n  {name} " in text


def test_help_name_is_answered_locally():
    assert console.help_text("kp") == ("kp: flow PI proportional gain (output % per flow %) "
                                       "(allowed 0.0..100.0 %/%, default 0.4)")
    assert "off|manual|auto" in console.help_text("mode")
    assert console.help_text("tel").startswith("tel on|off")
    with pytest.raises(CopflowError, match="no command or parameter 'kpp'"):
        console.help_text("kpp")


@pytest.mark.parametrize(("line", "text", "expected"), [
    ("", "", None),
    ("te", "te", ["tel"]),
    ("get k", "k", ["kp"]),
    ("set p_max_", "p_max_", ["p_max_cooling", "p_max_heating"]),
    ("help ti", "ti", ["ti_s"]),
    ("mode ", "", ["auto", "manual", "off"]),
    ("coeffs preset paper", "paper", None),
    ("get kp ", "", []),
])
def test_completion(line, text, expected):
    got = console.completions(line, text)
    if expected is None:
        assert got and all(w.startswith(text) for w in got)
        if line.startswith("coeffs"):
            assert "paper-corrected" in got
        else:
            assert {"status", "set", "help", "watch"} <= set(got)
    else:
        assert got == expected


def test_status_reads_names_and_missing():
    text = console.status_text({"mode": "auto", "state": "safe", "season": "?",
                                "t_in_c": "none", "flow_pct": "0", "flow_sp_pct": "100",
                                "output_pct": "53.45", "alarms": "211"})
    assert "flow missing" in text and "t_in missing" in text and "season unknown" in text
    assert "alarms: T_MISSING FLOW_MISSING SEASON_UNKNOWN" in text
    assert "0.0 %" not in text.split("(sp")[0]
    shown = console.show("alarms", Response(True, "active=a11 latched=0 names=x"))
    # a11 read as hex (before, the console showed `active=a11`, which reads as alarm A11)
    assert shown == ("active: T_MISSING FLOW_MISSING SEASON_UNKNOWN LOOP_OVERRUN; "
                     "latched: none")
