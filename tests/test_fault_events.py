"""Scenario events for the fault matrix (unit stop/start, river step, a valve stuck at a
given output) and `copflow faults`, the matrix as a command."""

import json

import pytest

from host_tools import cli, faults, sim
from host_tools.errors import CopflowError
from host_tools.scenario import Disturbances, Event, Scenario, load_scenario


def _write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return str(path)


def test_new_events_load(tmp_path):
    s = load_scenario(_write(tmp_path, 'season = "summer"\nhours = 2.0\n'
                             '[[events]]\nkind = "unit_stop"\nat_h = 0.5\nuntil_h = 1.0\n'
                             '[[events]]\nkind = "unit_stop"\nat_h = 1.5\n'
                             '[[events]]\nkind = "river_step"\nvalue = 10.0\nat_h = 0.2\n'
                             'until_h = 0.4\n'
                             '[[events]]\nkind = "stuck_actuator"\nvalue = 70.0\nat_h = 0.1\n'
                             'until_h = 0.2\n'))
    d = Disturbances(s.events)
    assert d.unit_demand(0.0) and not d.unit_demand(0.6 * 3600) and d.unit_demand(1.2 * 3600)
    assert not d.unit_demand(1.9 * 3600)  # no until_h: stopped to the end
    assert d.river_offset(0.3 * 3600) == 10.0 and d.river_offset(0.5 * 3600) == 0.0
    assert d.actuator(0.15 * 3600, 80.0, 60.0) == 70.0
    assert d.actuator(0.25 * 3600, 80.0, 60.0) == 80.0


@pytest.mark.parametrize("text, message", [
    ('[[events]]\nkind = "river_step"\nat_h = 0.1', "river_step event needs value"),
    ('[[events]]\nkind = "stuck_actuator"\nvalue = 150.0\nat_h = 0.1\nuntil_h = 0.2',
     "sticks at is 0..100"),
    ('[[events]]\nkind = "unit_stop"\nat_h = 0.5\nuntil_h = 0.2', "until_h must be after"),
    ('[[events]]\nkind = "unit_stop"\nvalue = 1.0\nat_h = 0.5', "value: unknown key"),
])
def test_bad_new_events_name_the_problem(tmp_path, text, message):
    with pytest.raises(CopflowError, match=message):
        load_scenario(_write(tmp_path, 'season = "summer"\n' + text))


def test_unit_stop_is_standby_and_the_restart_raises_no_alarm():
    """Before the restart fix the PI reopened the valve from 0 % on its integral alone:
    LOW_FLOW on every restart."""
    scenario = Scenario("unit-stop", "cooling", 2400 / 3600, 10.0,
                        events=[Event("unit_stop", 600.0, 1500.0)])
    # The model's optimum: the final flow is checked against the plant's optimum,
    # which the on-line optimiser's dither would move by up to opt_dither_pct.
    recorder = faults.Recorder(sim.CoreDriver(optimiser="model"))
    result, _ = sim.run_scenario(scenario, recorder, sample_every_s=10.0)
    states = [d.state for _, d in recorder.ticks]
    assert set(states[62:150]) == {"standby"}
    assert [m.demand for m, _ in recorder.ticks][62:150] == [False] * 88
    assert states[-1] == "auto" and result.alarms_seen == []
    flows = result.series["flow_percent"]
    assert max(flows[62:150]) < 1.0  # standby 0 %: the pump idles
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0


def test_faults_command_prints_the_matrix(capsys):
    assert cli.main(["faults", "--json", "river_step", "vfd_trip"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == []
    rows = {r["case"]: r for r in data["cases"]}
    assert rows["vfd_trip"]["alarm"] == "ACTUATOR" and rows["vfd_trip"]["ticks_to_safe"] <= 3
    assert rows["river_step"]["alarm"] == "T_MODEL_RANGE"
    assert cli.main(["faults", "no-such-case"]) == 2
    assert "known: t_open" in capsys.readouterr().err


def test_every_case_passes_in_process():
    outcomes = faults.run_matrix()
    assert faults.problems(outcomes) == []
    assert all(o.ticks_to_safe <= 3 for o in outcomes)
    assert "| `ACTUATOR` |" in faults.table(outcomes)


def test_scenario_results_summarise_each_fault_event():
    result, _ = sim.run_scenario(load_scenario("faults"))
    rows = {r["event"]: r for r in result.summary()["faults"]}
    assert rows["sensor t_in open"]["alarms"] == ["T_MISSING"]
    assert rows["sensor t_in open"]["safe_after_s"] == 20.0  # 3rd bad sample at 10 s ticks
    trip = rows["vfd_trip"]
    assert trip["alarms"] == ["LOW_FLOW", "ACTUATOR"] and trip["first_alarm_after_s"] <= 30.0
    assert trip["cleared_after_end_s"] is not None
    # Stuck where it was, at steady state, the valve still gives the setpoint: no alarm.
    assert rows["stuck_actuator"]["alarms"] == []
