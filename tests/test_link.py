"""The host link against scripted peers (loop://, a silent pty): pairing, garbage, timeouts."""

import os
import pty
import tty

import pytest

from host_tools.cli import main
from host_tools.errors import CopflowError
from host_tools.link import Link, LinkError, ReplError


def test_response_pairing_skips_garbage_and_routes_unsolicited_lines():
    seen = []
    with Link("loop://", timeout_s=1.0, on_unsolicited=seen.append) as link:
        # What the board will have sent by the time we read: telemetry, a
        # garbled line, a stale answer to another tag, then ours.
        link.serial.write(b"!tel mode=auto\n\xff\xfe garbled\n#zz ok stale=1\nok untagged\n"
                          b"#c1 ok kp=0.4 unit=%/%\n")
        response = link.request("get kp")
    assert response.ok and response.fields()["kp"] == "0.4"
    assert seen == ["!tel mode=auto"]
    assert link.garbled >= 2


def test_err_answers_raise_with_code_and_port():
    with Link("loop://", timeout_s=1.0) as link:
        link.serial.write(b"#c1 err E_RANGE kp: -1.0 is out of range; allowed 0.0..100.0\n")
        with pytest.raises(LinkError) as info:
            link.command("set kp -1")
    assert info.value.code == "E_RANGE"
    assert "loop://" in str(info.value) and "0.0..100.0" in str(info.value)


def test_list_collects_exactly_n_lines():
    with Link("loop://", timeout_s=1.0) as link:
        link.serial.write(b"#c1 ok n=2\n!param a=1 unit=s range=0..2\n!tel x\n"
                          b"!param b=2 unit=s range=0..3\n")
        response = link.request("list")
    assert response.extra == ["param a=1 unit=s range=0..2", "param b=2 unit=s range=0..3"]


def test_a_silent_board_is_a_timeout_naming_the_port():
    master, slave = pty.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    try:
        with Link(port, timeout_s=0.3) as link, pytest.raises(CopflowError) as info:
            link.command("hello")
        assert port in str(info.value) and "no response" in str(info.value)
    finally:
        os.close(master)
        os.close(slave)


def test_missing_port_is_a_one_line_error(capsys):
    assert main(["param", "get", "kp", "--port", "/dev/ttyDOESNOTEXIST"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copflow: cannot open /dev/ttyDOESNOTEXIST")
    assert err.count("\n") == 1


def test_bad_coefficient_file_is_refused_before_anything_is_sent(tmp_path, capsys):
    bad = tmp_path / "c.json"
    bad.write_text('{"cooling": {"a": [1, "x"]}}')
    assert main(["coeffs", "push", str(bad), "--port", "loop://"]) == 2
    assert "cooling: shape: missing key 't_lo'" in capsys.readouterr().err


def test_a_boot_line_after_a_left_over_repl_prompt_is_still_a_boot_line():
    """A board reset (or power-cut) at the REPL leaves `>>> ` without a newline in
    front of its `!boot` (seen: deploy's power-cut test waited 40 s for it)."""
    with Link("loop://", timeout_s=1.0) as link:
        link.serial.write(b">>> !boot copflow=0.1.0 proto=1 config=current\n")
        assert link.wait_for("!boot", 1.0).startswith("!boot copflow=0.1.0")


def test_the_raw_repl_is_named_at_once_not_after_the_timeout():
    with Link("loop://", timeout_s=1.0) as link:
        link.serial.write(b"\r\n>>> raw REPL; CTRL-B to exit\r\n>")
        with pytest.raises(ReplError, match="raw REPL"):
            link.request("hello", timeout_s=60.0)  # a timeout would take 60 s and say so
