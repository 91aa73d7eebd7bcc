"""Issue 11, defects 11 and 13: loop overruns, uptime and an interrupted save, on a board
running on its port's machine twin (the firmware's real-board path)."""

import json
import os

import pytest

from core import alarms
from host_tools.twins import PORTS
from runtime_rig import Rig


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, request.param)


def slow_slices(rig, extra_ms):
    """From now on every slice's driver polling takes extra_ms (a flash write,
    a Modbus flush, UART0 output blocking...); 0 puts it back."""
    hal = rig.app.hal
    poll = type(hal).poll

    def slow(now_ms):
        poll(hal, now_ms)
        rig.clock.advance_ms(extra_ms)

    hal.poll = slow if extra_ms else poll.__get__(hal)


def test_single_overruns_are_counted_not_alarmed(rig):
    rig.boot()
    rig.run_ms(2000)
    slow_slices(rig, 25)
    rig.slices(1)  # one slice blows the 10 ms budget (and skips the next)
    slow_slices(rig, 0)
    rig.run_ms(3000)
    status = rig.fields("status")
    assert int(status["overruns"]) >= 1
    assert int(status["skipped"]) >= 1
    assert not int(status["alarms"], 16) & alarms.LOOP_OVERRUN
    assert "LOOP_OVERRUN" not in rig.send("alarms")


def test_sustained_overrun_raises_loop_overrun_and_ack_clears_it_afterwards(rig):
    rig.boot()
    rig.run_ms(1000)
    slow_slices(rig, 15)  # every slice late: the loop cannot keep its period
    rig.run_ms(3000)
    assert int(rig.fields("status")["alarms"], 16) & alarms.LOOP_OVERRUN
    assert rig.fields("ack")["latched"] != "0"  # still overloaded: ack cannot clear it
    slow_slices(rig, 0)
    rig.run_ms(3000)
    assert not int(rig.fields("status")["alarms"], 16) & alarms.LOOP_OVERRUN
    assert "LOOP_OVERRUN" in rig.send("alarms")  # latched until someone has seen it
    rig.send("ack")
    assert "LOOP_OVERRUN" not in rig.send("alarms")


def test_uptime_keeps_counting_past_the_tick_wrap(rig):
    rig.boot()
    for _ in range(7 * 24):  # a week, in hours (each wait skips the missed slices)
        rig.clock.advance_ms(3600 * 1000)
        rig.slices(1)
    uptime = int(rig.fields("hello")["uptime_s"])
    assert 7 * 24 * 3600 <= uptime <= 7 * 24 * 3600 + 5


def test_uptime_right_after_boot_is_small(rig):
    rig.boot()
    rig.run_ms(2500)
    assert 2 <= int(rig.fields("hello")["uptime_s"]) <= 3


def saved(rig, value):
    rig.send(f"set ti_s {value}")
    assert rig.send("save").startswith("ok")


def test_a_power_cut_between_the_renames_boots_the_new_config_without_fallback(rig):
    rig.boot()
    saved(rig, 41)
    saved(rig, 42)
    # The third save was cut after "current -> backup" and before "tmp -> current":
    # on flash there are the new config in config.tmp and the previous one in config.bak.
    store = rig.app.store
    os.replace(store.current, store.tmp)
    with open(store.tmp) as f:
        assert json.loads(f.readline())["config"]["params"]["ti_s"] == 42
    rig.w.power_cycle()
    rig.out.clear()
    app = rig.boot()
    assert app.config_source == "current"
    assert not app.controller.sticky_alarms & alarms.CONFIG_FALLBACK
    assert "config=current" in rig.text() and "alarms=0" in rig.text()
    assert rig.fields("get ti_s")["ti_s"] == "42"
    assert store.read(store.current)["params"]["ti_s"] == 42  # the save was finished
    assert store.read(store.backup)["params"]["ti_s"] == 41
    assert not os.path.exists(store.tmp)


def test_a_save_torn_while_writing_leaves_the_old_config_current(rig):
    rig.boot()
    saved(rig, 41)
    store = rig.app.store
    with open(store.tmp, "w") as f:
        f.write('{"format": "copflow-config/1", "config": {"par')  # cut mid-write
    rig.w.power_cycle()
    app = rig.boot()
    assert app.config_source == "current"
    assert not app.controller.sticky_alarms & alarms.CONFIG_FALLBACK
    assert rig.fields("get ti_s")["ti_s"] == "41"
    assert not os.path.exists(store.tmp)
