"""Scenario files: validation with clear errors, and what each event does in the harness."""

import math

import pytest

from host_tools import sim
from host_tools.errors import CopflowError
from host_tools.scenario import SCENARIO_DIR, Disturbances, Event, Scenario, load_scenario


def _write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return str(path)


def test_every_shipped_scenario_loads():
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    assert {"paper-summer", "paper-winter", "river-ramp", "season-change", "faults"} <= set(names)
    for name in names:
        scenario = load_scenario(name)
        assert scenario.hours > 0 and scenario.dt_s > 0


@pytest.mark.parametrize("text, message", [
    ('season = "spring"', "season: expected summer or winter"),
    ('season = "summer"\nspeed = 3', "speed: unknown key"),
    ('season = "summer"\nhours = "six"', "hours: expected a float"),
    ('season = "summer"\n[[events]]\nkind = "meteor"\nat_h = 1.0', "events[0].kind"),
    ('season = "summer"\n[[events]]\nkind = "vfd_trip"\nat_h = 0.5', "needs until_h"),
    ('season = "summer"\nhours = 1.0\n[[events]]\nkind = "vfd_trip"\nat_h = 2.0\nuntil_h = 3.0',
     "outside the run"),
    ('season = "summer"\n[[events]]\nkind = "sensor"\nsensor = "t_in"\nfault = "melted"\n'
     'at_h = 0.1\nuntil_h = 0.2', "events[0].fault: expected one of open"),
    ('season = "summer"\n[[events]]\nkind = "sensor"\nsensor = "t_in"\nfault = "offset"\n'
     'at_h = 0.1\nuntil_h = 0.2', "offset fault needs value"),
    ('season = "summer"\n[[events]]\nkind = "link_drop"\nat_h = 0.5\nuntil_h = 0.4',
     "until_h must be after at_h"),
    ('season = "summer"\n[river]\nkind = "ramp"\nstart_c = 20.0', "needs end_c"),
    ('season = "summer"\nhours = nan', "not finite"),
    ('season = "summer"\nhours = [', "not valid TOML"),
])
def test_bad_scenarios_name_the_problem(tmp_path, text, message):
    with pytest.raises(CopflowError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(_write(tmp_path, text))


def test_unknown_scenario_lists_the_shipped_ones():
    with pytest.raises(CopflowError, match="paper-summer"):
        load_scenario("no-such-scenario")


def test_disturbances_in_time():
    d = Disturbances([Event("season", 100.0, season="heating"),
                      Event("vfd_trip", 10.0, 20.0), Event("stuck_actuator", 30.0, 40.0),
                      Event("link_drop", 50.0, 60.0)])
    assert d.season(99.0, "cooling") == "cooling" and d.season(100.0, "cooling") == "heating"
    assert d.actuator(15.0, 70.0, 55.0) == 0.0
    assert d.actuator(35.0, 70.0, 55.0) == 55.0
    assert d.actuator(45.0, 70.0, 55.0) == 70.0
    assert d.link_down(50.0) and not d.link_down(60.0)


def _sil(events, hours=1.0):
    scenario = Scenario("t", "cooling", hours=hours, dt_s=10.0, events=events)
    return sim.run_scenario(scenario)[0]


def test_an_open_sensor_is_seen_by_the_core_and_cleared():
    result = _sil([Event("sensor", 600.0, 900.0, sensor="t_in", fault="open")])
    assert "T_MISSING" in result.alarms_seen
    clean = _sil([])
    assert clean.alarms_seen == []


def test_a_vfd_trip_stops_the_flow_and_raises_low_flow():
    result = _sil([Event("vfd_trip", 600.0, 1200.0)])
    t = result.series["time_h"]
    flow = result.series["flow_percent"]
    during = [f for h, f in zip(t, flow, strict=True) if 0.25 <= h < 0.33]
    assert during and max(during) < 5.0
    assert "LOW_FLOW" in result.alarms_seen
    assert flow[-1] > 50.0  # running again after the reset


def test_a_season_change_switches_the_plant_and_the_core():
    result = _sil([Event("season", 1800.0, season="heating")], hours=2.0)
    assert result.season == "heating"
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0


def test_a_link_drop_holds_the_output():
    result = _sil([Event("link_drop", 600.0, 1800.0)])
    out = dict(zip(result.series["time_h"], result.series["output_percent"], strict=True))
    held = [v for h, v in out.items() if 600 / 3600 < h < 1800 / 3600]
    assert held and max(held) == min(held)
    assert math.isfinite(result.cop_s)
