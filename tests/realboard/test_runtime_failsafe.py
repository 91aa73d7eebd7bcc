"""Issue 11, defect 3: every exit from the loop -- an error, MemoryError, Ctrl-C (which the
ports raise as KeyboardInterrupt wherever the code is), a requested reboot -- goes through
one fail-safe: actuator outputs safe, RS-485 DE released, then a reboot (in service) or the
REPL (after Ctrl-C). On the port's machine twin, with the firmware's real-board path."""

import pytest

import app as app_mod
from host_tools.twins import PORTS, BoardReset
from runtime_rig import Rig


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, request.param)


def actuator_pins(rig, hw_config=None):
    return rig.app.hal.actuator, rig.plan(hw_config)["actuator"]["pins"]


def at_time(rig, at_ms, action, when=None):
    """action() runs once, after the driver polling of the first slice past at_ms
    (and when(), if given, is true)."""
    hal = rig.app.hal
    poll = type(hal).poll
    end_us = rig.clock.us + at_ms * 1000
    done = []

    def polling(now_ms):
        poll(hal, now_ms)
        if not done and rig.clock.us >= end_us and (when is None or when()):
            done.append(now_ms)
            action()
        if rig.clock.us > end_us + 60_000_000:
            raise AssertionError("the moment the test waits for never came")  # no hang

    hal.poll = polling


def fail_at(rig, at_ms, exc, when=None):
    """The driver polling of the first slice after at_ms raises exc (as the port raises
    KeyboardInterrupt wherever the code is)."""

    def fail():
        raise exc

    at_time(rig, at_ms, fail, when)


def start_to_repl(app):
    """Run the loop until Ctrl-C: start() returns, main.py ends, the port's REPL runs."""
    try:
        app_mod.start(app)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt left the loop without the fail-safe")


def drive_manual(rig, pct):
    rig.inbuf += f"mode manual\nout {pct}\n".encode()


def out_is_zero(rig, pins, state):
    """The 0-10 V output at 0 V in a snapshot or now: DAC code 0, or the PWM at duty 0
    (or the pin taken back as a plain output, low)."""
    if rig.port == "esp32":
        return state["dacs"][pins["out"]] == 0
    pwm = rig.w.pwm(pins["out"])
    return pwm is None or pwm.duty_u16 == 0 or rig.w.level(pins["out"]) == 0


@pytest.mark.parametrize("exc", [RuntimeError("driver bug"), MemoryError("allocating 4096 bytes"),
                                 OSError(5, "EIO")], ids=["error", "memory", "oserror"])
def test_an_error_in_service_puts_outputs_safe_then_reboots(rig, exc):
    app = rig.build()
    _, pins = actuator_pins(rig)
    seen = rig.snapshot_at_reset(pins=(pins["run"],), dacs=(pins["out"],))
    drive_manual(rig, 70)
    fail_at(rig, 3000, exc)
    with pytest.raises(BoardReset):
        app_mod.start(app)
    assert len(seen) == 1  # one reset, after the fail-safe
    assert seen[0]["pins"][pins["run"]] == 0  # pump run relay off
    assert out_is_zero(rig, pins, seen[0])
    assert f"!fault loop {type(exc).__name__}" in rig.text()


def test_outputs_were_live_before_the_fault(rig):
    # The same run as above without the fault: the output and the run relay were on,
    # so the fail-safe above really changed them.
    app = rig.boot()
    _, pins = actuator_pins(rig)
    drive_manual(rig, 70)
    rig.run_ms(3000)
    assert rig.w.level(pins["run"]) == 1
    if rig.port == "esp32":
        assert rig.w.dac(pins["out"]).value > 0
    else:
        assert rig.w.pwm(pins["out"]).duty_u16 > 0
    assert app.running


def test_ctrl_c_puts_outputs_safe_and_returns_to_the_repl_without_a_reset(rig):
    app = rig.build()
    _, pins = actuator_pins(rig)
    seen = rig.snapshot_at_reset()
    drive_manual(rig, 70)
    fail_at(rig, 3000, KeyboardInterrupt())
    start_to_repl(app)
    assert seen == []
    assert rig.w.level(pins["run"]) == 0
    assert out_is_zero(rig, pins, {"dacs": {pins["out"]: getattr(rig.w.dac(pins["out"]),
                                                                  "value", None)}})
    assert "!stopped outputs=safe" in rig.text()


def test_a_valve_stopped_mid_travel_has_both_relays_off(rig):
    valve = {"actuator": {"driver": "valve_3point"}}
    app = rig.build(valve)
    _, pins = actuator_pins(rig, valve)
    seen = rig.snapshot_at_reset(pins=(pins["open"], pins["close"]))
    drive_manual(rig, 100)
    moving = []

    def relay_on():
        on = rig.w.level(pins["open"]) == 1 or rig.w.level(pins["close"]) == 1
        if on:
            moving.append(rig.clock.us)
        return on

    fail_at(rig, 500, RuntimeError("bug"), when=relay_on)
    with pytest.raises(BoardReset):
        app_mod.start(app)
    assert moving  # a relay was energised when the error came
    assert seen[0]["pins"] == {pins["open"]: 0, pins["close"]: 0}


def test_ctrl_c_while_the_rs485_transmitter_is_on_releases_de(rig):
    vfd = {"actuator": {"driver": "vfd"}}
    app = rig.build(vfd)
    de = rig.plan(vfd)["actuator"]["pins"]["de"]
    master = app.hal.actuator.master
    line = master._line  # drivers/rtu_line.Sender: the frame and DE
    flush = line._flush
    fired = []

    def flush_then_ctrl_c():
        # Ctrl-C arrives while the frame is shifting out, DE high: the port raises
        # KeyboardInterrupt right there, before the driver turns the line around.
        if flush is not None:
            flush()
        if rig.clock.us > 500_000 and not fired:
            fired.append(rig.w.level(de))
            raise KeyboardInterrupt

    line._flush = flush_then_ctrl_c
    start_to_repl(app)
    assert fired == [1]  # DE was high when the interrupt came
    assert rig.w.level(de) == 0
    assert "!stopped outputs=safe" in rig.text()


def test_a_requested_reboot_puts_outputs_safe_first(rig):
    app = rig.build()
    _, pins = actuator_pins(rig)
    seen = rig.snapshot_at_reset(pins=(pins["run"],), dacs=(pins["out"],))
    drive_manual(rig, 70)
    at_time(rig, 3000, lambda: rig.inbuf.extend(b"reboot\n"))
    with pytest.raises(BoardReset):
        app_mod.start(app)
    assert seen[0]["pins"][pins["run"]] == 0
    assert out_is_zero(rig, pins, seen[0])
    assert "!reboot" in rig.text()
