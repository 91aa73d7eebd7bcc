"""Pin-level HIL, full runs (issue 15, docs/hil.md#pin-level-hil): the plant drives
the pins of a virtual board on each profile's twin. Slow (about 1 min per
paper-summer or faults run; 2.5 min for the file with 4 workers):

    .venv/bin/python -m pytest hil_tests/test_pins.py -m slow
"""

import json

import pytest

from host_tools import pinhil, sim
from host_tools.paths import DATA_DIR
from host_tools.scenario import load_scenario

NTC_LOOP_VFD = DATA_DIR / "pinhil" / "pico-ntc-loop-vfd.json"


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["esp32-devkitc", "pico"])
def test_paper_summer_through_the_pins_is_within_1_percent_of_sim(profile):
    _, result, timing, _, _, _ = pinhil.run_pins(profile, "paper-summer")
    assert timing["level"] == "pins" and timing["ticks"] == 2160
    sil = sim.run_scenario(load_scenario("paper-summer"))[0]
    assert result.cop_s == pytest.approx(sil.cop_s, rel=0.01)
    assert result.alarms_seen == []


@pytest.mark.slow
@pytest.mark.parametrize("profile,hw", [("esp32-devkitc", None), ("pico", NTC_LOOP_VFD)])
def test_the_faults_scenario_through_the_pins(profile, hw):
    """Each driver-level fault the wiring has: its alarm on the first tick that
    could see it, safe within 3 ticks, and recovery after it."""
    scenario, result, _, _, _, notes = pinhil.run_pins(
        profile, "faults", hw=None if hw is None else json.loads(hw.read_text()))
    rows = {r["event"]: r for r in pinhil.fault_rows(result, scenario, notes)}
    applicable = [k for k in ("onewire_crc", "ntc_open", "loop_break", "vfd_mute", "vfd_fault")
                  if rows[k]["applicable"]]
    assert applicable
    for kind in applicable:
        row = rows[kind]
        assert row["alarms"] and row["ticks_to_alarm"] == 1, row
        assert row["recovered_after_end_s"] is not None, row
        assert row["ticks_to_safe"] <= 3, row
    # the plant-level faults still show through the pins
    assert "T_MISSING" in rows["sensor t_in open"]["alarms"]


@pytest.mark.slow
@pytest.mark.parametrize("profile,hw", [
    ("pico", {"temperature": {"driver": "max31865",
                              "params": {"r_nominal_ohm": 1000.0, "r_ref_ohm": 4300.0}},
              "flow": {"driver": "pulse"}, "actuator": {"driver": "analog"}}),
    ("esp32-devkitc", {"temperature": {"driver": "ds18b20"}, "flow": {"driver": "pulse_pcnt"},
                       "actuator": {"driver": "valve_3point"}}),
])
def test_a_pt1000_and_a_3_point_valve_through_the_pins(profile, hw, tmp_path):
    """A PT1000 on the MAX31865, and a 3-point valve whose relay times the plant
    integrates into travel (it syncs to an end stop first: ACTUATOR meanwhile)."""
    scenario = tmp_path / "hour.toml"
    scenario.write_text('season = "summer"\nhours = 1.0\ndt_s = 10.0\n')
    hw = {**hw, "inputs": {"unit_running": True, "unit_heating": True}}
    _, result, _, _, _, _ = pinhil.run_pins(profile, str(scenario), hw=hw)
    sil = sim.run_scenario(load_scenario(str(scenario)))[0]
    assert result.cop_s == pytest.approx(sil.cop_s, rel=0.01)
