"""The virtual bench board over its serial port: protocol, mpremote, power cuts, fuzzing."""

import random
import subprocess
import sys
import time

import pytest

from host_tools.link import Link
from host_tools.vboard import VirtualBoard


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(tmp_path / "flash", restart_delay_s=0.05, log=sys.stderr).boot(20.0) as b:
        yield b


@pytest.fixture
def link(board):
    with Link(board.port, timeout_s=5.0) as link:
        yield link


def reboot_and_wait(board, link, timeout=20.0):
    link.command("reboot")
    return link.wait_for("!boot", timeout)


def test_round_trips_over_pyserial(link):
    hello = link.command("hello").fields()
    assert hello["copflow"] and hello["proto"] == "1" and hello["board"] == "esp32"
    assert link.command("get kp").fields()["kp"] == "0.4"
    assert link.command("set kp 0.25").fields()["kp"] == "0.25"
    bad = link.request("set kp 500")
    assert not bad.ok and bad.code == "E_RANGE" and "0.0..100.0" in bad.body
    assert link.command("get kp").fields()["kp"] == "0.25"
    listed = link.command("list")
    assert int(listed.fields()["n"]) == len(listed.extra) > 30
    link.command("set period_ms 100")
    # No sensors on the virtual board until HIL: the missing sensors are declared
    # faults within a few ticks.
    deadline = time.monotonic() + 30.0
    while True:
        status = link.command("status").fields()
        if int(status["alarms"], 16) & 0x11 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["state"] == "safe"
    assert int(status["alarms"], 16) & 0x11  # T_MISSING | FLOW_MISSING


def test_saved_config_survives_a_reboot(board, link):
    link.command("set ti_s 42")
    link.command("save")
    boot = reboot_and_wait(board, link)
    assert "config=current" in boot
    assert link.command("get ti_s").fields()["ti_s"] == "42"


def test_garbage_does_not_crash_the_console(link):
    rng = random.Random(1234)
    for _ in range(30):
        junk = bytes(rng.choice([rng.randrange(0, 256), 10, 32, 35]) for _ in range(120))
        link.write_raw(junk.replace(b"\x03", b"x").replace(b"\x01", b"x") + b"\n")
    link.write_raw(b"x" * 5000 + b"\n" + b"1e999\n-0\nnan\n\n\x00\x00\n")
    time.sleep(0.5)
    assert link.command("hello", timeout_s=10.0).fields()["proto"] == "1"


def mpremote(port, *args):
    return subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=60)


def test_mpremote_fs_ls_cp_and_exec(board, tmp_path):
    listing = mpremote(board.port, "fs", "ls")
    assert listing.returncode == 0, listing.stderr
    assert "main.py" in listing.stdout and "core/" in listing.stdout
    src = tmp_path / "note.txt"
    src.write_text("copied by mpremote\n")
    cp = mpremote(board.port, "fs", "cp", str(src), ":note.txt")
    assert cp.returncode == 0, cp.stderr
    assert (board.flash / "note.txt").read_text() == "copied by mpremote\n"
    ex = mpremote(board.port, "exec", "import os; print(sorted(os.listdir('/'))[:3], 6 * 7)")
    assert ex.returncode == 0, ex.stderr
    assert "42" in ex.stdout


def test_power_cut_during_save_never_loses_the_config(board, link):
    rng = random.Random(7)
    link.command("set ti_s 10")
    link.command("save")
    old = "10"
    for i in range(12):
        new = str(11 + i)
        link.command(f"set ti_s {new}")
        link.write_raw(b"save\n")
        time.sleep(rng.uniform(0.0, 0.03))
        board.kill()
        boot = link.wait_for("!boot", 20.0)
        assert "config=defaults" not in boot, boot
        value = link.command("get ti_s").fields()["ti_s"]
        assert value in (old, new), (i, value, boot)
        old = value


def test_board_command_prints_the_port_first(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.cli", "board", "--flash",
                             str(tmp_path / "flash"), "--board", "rp2"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/")
        with Link(port, timeout_s=10.0) as link:
            link.wait_for("!boot", 20.0)
            assert link.command("hello").fields()["board"] == "rp2"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


@pytest.fixture
def pico_sized_board(tmp_path):
    # The Pico profile's drivers need the RP2040's heap on the host interpreter.
    with VirtualBoard(tmp_path / "flash", heap="192K", restart_delay_s=0.05,
                      log=sys.stderr).boot(20.0) as b:
        yield b


def test_deploy_then_reboot_answers_hello_with_the_deployed_version(pico_sized_board, tmp_path):
    from host_tools import __version__

    board = pico_sized_board
    hw = tmp_path / "hw.json"
    hw.write_text('{"temperature": {"driver": "ntc"}, "flow": {"driver": "pulse"}}')
    result = subprocess.run([sys.executable, "-m", "host_tools.cli", "deploy", "--port",
                             board.port, "--board", "rp2", "--hw", str(hw)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (board.flash / "boards" / "pico.json").exists()
    assert '"ntc"' in (board.flash / "hw.json").read_text()
    assert (board.flash / "core" / "controller.mpy").exists()
    assert not (board.flash / "core" / "controller.py").exists()
    assert (board.flash / "main.py").exists()
    with Link(board.port, timeout_s=10.0) as link:
        link.command("reboot")
        boot = link.wait_for("!boot", 20.0)
        hello = link.command("hello").fields()
    assert f"copflow={__version__}" in boot
    assert hello["copflow"] == __version__ and hello["board"] == "pico"


def test_deploy_checks_the_hardware_config_before_copying(board, tmp_path):
    hw = tmp_path / "hw.json"
    hw.write_text('{"actuator": {"driver": "analog", "params": {"kind": "dac"}}}')
    result = subprocess.run([sys.executable, "-m", "host_tools.cli", "deploy", "--port",
                             board.port, "--board", "rp2", "--hw", str(hw)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "actuator.pins.out: pico has no DAC" in result.stderr
    assert not (board.flash / "hw.json").exists()


def test_hil_lockstep_and_realtime(link):
    refused = link.request("hil lockstep")
    assert not refused.ok and refused.code == "E_STATE"
    link.command("set hil allowed")
    link.command("hil lockstep")
    first = link.command("hil step 1000 27.6 0.55 1 1").fields()
    assert first["state"] == "auto" and first["season"] == "1" and first["t"]
    assert float(first["popt"]) == pytest.approx(91.6, abs=0.1)
    t0 = time.perf_counter()
    for _ in range(200):
        fields = link.command("hil step 1000 27.6 0.55 1 1").fields()
    elapsed = time.perf_counter() - t0
    assert float(fields["sp"]) == pytest.approx(91.6, abs=0.1)
    assert int(fields["t"]) - int(first["t"]) == 200 * 1000  # simulated time, not wall time
    assert elapsed < 60  # a sanity bound only; throughput is measured by copflow bench
    missing = link.command("hil step 1000 nan 0.55 1 1")
    assert missing.ok
    link.command("hil off")
    link.command("hil realtime")
    link.command("hil meas 11.5 0.33 1 2")
    assert link.command("status").fields()["mode"] == "auto"
    bad = link.request("hil meas 11.5 0.33 7 2")
    assert not bad.ok and bad.code == "E_VALUE"
    link.command("hil off")


def test_a_locked_board_refuses_every_write_and_still_reads(link):
    """Issue 13: through the virtual board, each writing command is E_LOCKED and
    changes nothing; the reads still answer (the property test over any sequence:
    tests/realboard/test_console_locked.py)."""
    assert link.command("set hil allowed").ok
    assert link.command("pin set 2468").ok
    assert link.command("lock 2468").ok
    before = link.command("list").body
    kp = link.command("get kp").fields()["kp"]
    for line in ("set kp 0.5", "mode manual", "out 40", "season heating", "defaults", "load",
                 "save", "reboot", "maint", "ack", "hil lockstep", "hil realtime", "hil off",
                 "hil step 1000 20 1 1 1", "coeffs preset default", "coeffs set cooling a0 1",
                 "pin clear", "pin set 1111"):
        response = link.request(line)
        assert not response.ok and response.code == "E_LOCKED", (line, response)
    for line in ("hello", "status", "list", "get kp", "param kp", "alarms", "mem", "coeffs",
                 "hil"):
        assert link.request(line).ok, line
    assert link.command("get kp").fields()["kp"] == kp
    assert link.command("list").body == before
    assert link.command("unlock 2468").ok
