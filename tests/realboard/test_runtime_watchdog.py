"""Issue 11, defects 10 and 9: the watchdog is fed only while the control loop is healthy,
lockstep HIL times out when the host goes quiet, and a reset the firmware asked for is
not reported as a watchdog reset (RP2's machine.reset() is done with the watchdog).
On the port's machine twin, with the firmware's real-board path."""

import pytest

import app as app_mod
from core import alarms
from host_tools.twins import PORTS, BoardReset
from runtime_rig import Rig


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, request.param)


def lockstep(rig, timeout_s):
    rig.send("set hil allowed")
    rig.send(f"set hil_timeout_s {timeout_s}")
    assert rig.send("hil lockstep 40") == "ok hil=lockstep"
    for _ in range(5):
        assert rig.send("hil step 1000 27.6 0.55 1 1").startswith("ok")


def wait_wall_ms(rig, ms):
    """The host sends nothing: the board's slices wait for input as a board does."""
    rig.run_ms(ms)


def test_lockstep_ends_when_the_host_goes_quiet(rig):
    rig.boot()
    lockstep(rig, 2)
    wait_wall_ms(rig, 1500)
    assert rig.fields("hil")["hil"] == "lockstep"  # not yet: steps are 1.5 s apart
    rig.send("hil step 1000 27.6 0.55 1 1")
    wait_wall_ms(rig, 2500)
    assert "!hil off reason=timeout" in rig.text()
    assert rig.fields("hil")["hil"] == "off"
    rig.run_ms(5000)  # its own clock and drivers: unwired sensors read missing
    status = rig.fields("status")
    assert status["state"] == "safe"
    assert int(status["alarms"], 16) & alarms.T_MISSING


def test_the_watchdog_goes_hungry_when_lockstep_steps_stop(rig):
    rig.boot()
    assert rig.w.wdt is not None and rig.w.wdt.timeout_ms == 8000
    lockstep(rig, 600)  # the host's timeout far longer than the watchdog's
    # Steps are overdue after two periods and a second (3 s), then 8 s of watchdog.
    wait_wall_ms(rig, 10000)
    assert not rig.w.wdt.expired()
    wait_wall_ms(rig, 2000)
    assert rig.w.wdt.expired()  # a dead host does not leave the actuator frozen
    assert rig.w.check_wdt()  # the chip resets
    assert rig.w.reset_cause == rig.m.WDT_RESET


def test_steps_arriving_keep_the_watchdog_fed(rig):
    rig.boot()
    lockstep(rig, 600)
    for _ in range(40):
        wait_wall_ms(rig, 2500)
        assert rig.send("hil step 1000 27.6 0.55 1 1").startswith("ok")
    assert not rig.w.wdt.expired()


def test_the_own_loop_keeps_the_watchdog_fed_and_a_stuck_tick_starves_it(rig):
    app = rig.boot()
    rig.run_ms(20000)
    assert not rig.w.wdt.expired() and rig.w.wdt.feeds > 1000
    # The control tick stops happening (a bug) while slices go on: no more feeding.
    app._ticks_per_step = 1 << 29
    rig.run_ms(10000)  # overdue after 3 s, then 8 s of watchdog
    assert not rig.w.wdt.expired()
    rig.run_ms(2000)
    assert rig.w.wdt.expired()


def test_the_watchdog_starts_with_the_loop_not_at_boot(rig):
    rig.build()
    assert rig.w.wdt is None  # a boot that fails from here on cannot reset-loop
    app_mod._begin(rig.app)
    assert rig.w.wdt is not None


def reboot(rig, app):
    rig.inbuf += b"reboot\n"
    with pytest.raises(BoardReset):
        app_mod.start(app)


def test_a_requested_reboot_is_not_reported_as_a_watchdog_reset(rig):
    app = rig.build()
    reboot(rig, app)
    if rig.port == "rp2":
        # RP2's machine.reset() goes through the watchdog (ports/rp2/modmachine.c).
        assert rig.m.reset_cause() == rig.m.WDT_RESET
    rig.out.clear()
    app = rig.boot()
    assert not app.controller.sticky_alarms & alarms.WDT_RESET
    assert "alarms=0" in rig.text()
    rig.run_ms(2000)
    assert "WDT_RESET" not in rig.send("alarms")


def test_a_real_watchdog_bite_after_a_reboot_is_still_reported(rig):
    app = rig.build()
    reboot(rig, app)
    app = rig.boot()  # the intended reset: not reported (above)
    rig.clock.advance_ms(9000)  # the loop stuck: nobody feeds
    assert rig.w.check_wdt()
    rig.out.clear()
    app = rig.boot()
    assert app.controller.sticky_alarms & alarms.WDT_RESET
    assert f"alarms={alarms.WDT_RESET:x}" in rig.text()
