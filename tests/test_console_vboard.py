"""Issue 16, "a console that cannot stop control", on the virtual board over its serial
port: control runs on while the host does not read, a single Ctrl-C is line noise, a break
(two Ctrl-C, or mpremote's) hands over the REPL and the running config comes back after the
soft reset, and mpremote still works.

The slow run is the "Done when" figure (docs/reliability.md#console):
    .venv/bin/pytest -q -m slow tests/test_console_vboard.py
"""

import subprocess
import sys
import time

import pytest

from host_tools.link import Link
from host_tools.vboard import VirtualBoard
from serial_repl import SerialRepl


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(tmp_path / "flash", restart_delay_s=0.05, log=sys.stderr).boot(20.0) as b:
        yield b


def status_figures(link):
    status = link.command("status").fields()
    return {"skipped": int(status["skipped"]), "ticks": int(status["ticks"])}


def loop_figures(link):
    """periods, skipped, overruns, dropped and ticks from `mem` and `status`."""
    mem = link.command("mem").fields()
    status = link.command("status").fields()
    return {"periods": int(mem["periods"]), "skipped": int(mem["skipped"]),
            "overruns": int(mem["overruns"]), "dropped": int(status["dropped"]),
            "ticks": int(status["ticks"])}


def unread_run(board, seconds, fill_lists=8, figures=loop_figures):
    """Telemetry every 100 ms, control every 100 ms; the host fills the port with `list`
    answers it never reads, then reads nothing for `seconds`. Returns the loop's figures
    before and after."""
    with Link(board.port, timeout_s=10.0) as link:
        link.command("set period_ms 100")
        before = figures(link)
        link.command("tel period 100")
        link.command("tel on")
        for _ in range(fill_lists):  # about 3 KB each: the pty's buffer fills at once
            link.write_raw(b"list\n")
        time.sleep(seconds)
    # A new connection starts reading again (pyserial flushes what was waiting).
    with Link(board.port, timeout_s=30.0) as link:
        link.command("tel off", timeout_s=30.0)
        after = figures(link)
    return before, after


def test_control_runs_on_while_the_host_does_not_read(board):
    # Before the fix the guest's write blocked once the pty was full: no slice ran
    # while the host did not read (measured: 866 of ~1,008 periods of a 10 s pause
    # skipped, 14 control ticks of ~100). Figures from `status` only, which the
    # firmware before the fix has too.
    t0 = time.monotonic()
    before, after = unread_run(board, 4.0, figures=status_figures)
    periods = (time.monotonic() - t0) * 100  # 10 ms slices, at most
    skipped = after["skipped"] - before["skipped"]
    # Bounds loose enough for a host busy with other tests (the default run is
    # parallel), tight enough for the defect: 86 % of the periods skipped, 14 % ticked.
    assert skipped <= periods / 3, (periods, before, after)
    assert (after["ticks"] - before["ticks"]) * 10 >= periods / 4, (periods, before, after)


@pytest.mark.slow
def test_60_s_unread_keeps_99_percent_of_ticks(board):
    before, after = unread_run(board, 60.0)
    periods = after["periods"] - before["periods"]
    skipped = after["skipped"] - before["skipped"]
    late = after["overruns"] - before["overruns"]
    print(f"\nperiods={periods} skipped={skipped} late={late} "
          f"on_time={(periods - skipped - late) / periods:.4f} "
          f"ran={(periods - skipped) / periods:.4f} dropped={after['dropped']} "
          f"bridge_dropped={board.bridge.dropped}")
    assert periods >= 5900
    assert skipped * 100 <= periods, (before, after)


def test_a_single_ctrl_c_in_a_line_leaves_control_running(board):
    with Link(board.port, timeout_s=10.0) as link:
        link.command("set period_ms 100")
        ticks = int(link.command("status").fields()["ticks"])
        link.write_raw(b"get k\x03p\n")
        reply = link.read_line(time.monotonic() + 10.0)
        assert reply is not None and reply.startswith("err E_SYNTAX"), reply
        time.sleep(1.0)
        assert int(link.command("status").fields()["ticks"]) >= ticks + 5
        link.write_raw(b"\r\x03")  # a lone "\r" Ctrl-C with nothing after it: noise too
        time.sleep(1.0)
        assert int(link.command("status").fields()["ticks"]) >= ticks + 10


def mpremote(port, *args):
    return subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=60)


def test_mpremote_still_gets_in_and_the_running_config_survives_the_soft_reset(board):
    with Link(board.port, timeout_s=10.0) as link:
        link.command("set ti_s 42")
        link.command("save")
        link.command("set ti_s 33")  # running, not saved
    listing = mpremote(board.port, "fs", "ls")  # "\r\x03", then "\r\x01"
    assert listing.returncode == 0, listing.stderr
    assert "main.py" in listing.stdout
    assert (board.flash / "resume.json").exists()
    assert '"ti_s": 42' in (board.flash / "config.json").read_text()  # never clobbered
    repl = SerialRepl(board.port)
    try:
        repl.s.write(b"\r\x02")  # mpremote left the raw REPL already; Ctrl-B is harmless
        repl.read_until(b">>> ")
        repl.s.write(b"\x04")  # the soft reset back into copflow
        boot = repl.read_until(b"!boot", 30.0) + repl.read_until(b"\n")
    finally:
        repl.close()
    assert "config=resumed" in boot, boot
    with Link(board.port, timeout_s=10.0) as link:
        assert link.command("get ti_s").fields()["ti_s"] == "33"
        link.command("reboot")  # applied once: the next boot has the saved config
        assert "config=current" in link.wait_for("!boot", 30.0)
        assert link.command("get ti_s").fields()["ti_s"] == "42"
    assert not (board.flash / "resume.json").exists()


def test_two_ctrl_c_give_the_repl_with_outputs_safe(board):
    repl = SerialRepl(board.port)
    try:
        repl.s.write(b"\x03\x03")
        text = repl.read_until(b">>> ")
        assert "!stopped outputs=safe" in text
    finally:
        repl.close()
