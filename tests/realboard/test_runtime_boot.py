"""Issue 11, defects 2 and 4, and the maintenance boot: main.py on the port's machine twin.
Outputs are made safe before the heavy imports; a boot that fails (MemoryError on a
stock ESP32's heap) goes through the fail-safe and stops at the REPL with no watchdog
running (no reset loop); /maint gives a REPL with outputs safe, no watchdog, no loop;
GC stays the port's (automatic) -- the firmware never switches it off."""

import builtins
import gc

import pytest

import app as app_mod
from host_tools.twins import PORTS
from runtime_rig import Rig

HEAVY = ("core.controller", "console", "store", "hil", "app", "hw", "hal_board")


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, request.param)


class OutOfMemoryApp:
    def __init__(self, hal):
        raise MemoryError("memory allocation failed, allocating 4096 bytes")


def actuator_state(rig):
    pins = rig.plan()["actuator"]["pins"]
    w = rig.w
    # The 0-10 V output's DAC (esp32) or PWM (rp2) pin before its driver: a plain
    # output, low (0 V); None while it floats.
    out = pins["out"]
    return {"run": w.level(pins["run"]) if w.is_output(pins["run"]) else None,
            "out": w.level(out) if w.is_output(out) else None}


SAFE = {"run": 0, "out": 0}


def no_loop(monkeypatch, started):
    monkeypatch.setattr(app_mod, "start", lambda a: started.append(a))


def test_a_boot_that_runs_out_of_memory_stops_safe_at_the_repl_without_a_watchdog(
        rig, monkeypatch, capsys):
    rig.flash()
    disabled = []
    monkeypatch.setattr(gc, "disable", lambda: disabled.append(1))
    monkeypatch.setattr(app_mod, "App", OutOfMemoryApp)
    rig.run_main()  # returns: the port's REPL takes over
    assert rig.w.wdt is None  # nothing can reset the board into the same failure again
    assert "!fault boot MemoryError: memory allocation failed" in capsys.readouterr().out
    assert actuator_state(rig) == SAFE
    assert disabled == []  # GC left automatic, as the port has it


def test_outputs_are_safe_before_the_heavy_imports(rig, monkeypatch):
    rig.flash()
    started = []
    no_loop(monkeypatch, started)
    rig.run_main()  # the first boot after deploy: the board learns its outputs
    assert started
    rig.w.power_cycle()  # every pin an input again: relays and the 0-10 V stage float
    assert actuator_state(rig) == {"run": None, "out": None}
    seen = []
    real_import = builtins.__import__

    def watching_import(name, *args, **kwargs):
        if name in HEAVY and not seen:
            seen.append((name, actuator_state(rig)))
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", watching_import)
    rig.run_main()
    assert len(started) == 2
    assert seen and seen[0][1] == SAFE, seen
    hal = started[1].hal  # and the drivers still got their outputs
    assert hal.boot_error == "" and hal.actuator is not None


def test_a_maintenance_boot_gives_the_repl_with_outputs_safe_and_no_watchdog(
        rig, monkeypatch, capsys):
    root = rig.flash()
    started = []
    no_loop(monkeypatch, started)
    rig.run_main()
    rig.w.power_cycle()
    capsys.readouterr()
    (root / "maint").write_text("")
    imported = []
    real_import = builtins.__import__

    def watching_import(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", watching_import)
    rig.run_main()
    assert "!maint" in capsys.readouterr().out.splitlines()
    assert not (root / "maint").exists()  # the next boot is a service boot again
    assert len(started) == 1 and rig.w.wdt is None
    assert not set(imported) & set(HEAVY)
    assert actuator_state(rig) == SAFE
