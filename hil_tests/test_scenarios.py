"""Scenario runs through the board in lockstep: river ramp, season change, faults.

Each is compared with the same scenario in software (`copflow sim --scenario`):
the events are applied by the same harness, so the only difference is where the
core runs, and COP_s must agree within 0.5 %. These check that the loop follows
the model's optimum through each event (`optimiser model`); the on-line
optimiser's run through the board is test_optimiser_hil.py.
"""

import pytest

from host_tools import hil, sim


def _both(dut, name):
    scenario = hil.load_scenario(name)
    board, timing, _ = hil.run(dut.link, scenario, settings={"optimiser": "model"})
    local, _ = sim.run_scenario(scenario, sim.CoreDriver(optimiser="model"))
    assert board.cop_s == pytest.approx(local.cop_s, rel=0.005)
    assert timing["ticks"] > 0
    return scenario, board


def test_follows_a_river_temperature_ramp(dut):
    scenario, result = _both(dut, "river-ramp")
    series = result.series
    # The plant's optimum moves with the river; the board's flow follows it.
    early = series["time_h"].index(next(t for t in series["time_h"] if t >= 0.5))
    assert series["t_river_c"][early] == pytest.approx(24.0, abs=0.1)
    assert series["t_river_c"][-1] == pytest.approx(30.0, abs=0.1)
    assert result.ratio_to_oracle >= 0.995
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0


def test_season_change_moves_to_the_heating_optimum(dut):
    scenario, result = _both(dut, "season-change")
    assert result.season == "heating"
    assert "SEASON_UNKNOWN" not in result.alarms_seen
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0
    assert result.ratio_to_oracle >= 0.99


def test_faults_raise_their_alarms_and_the_loop_recovers(dut):
    scenario, result = _both(dut, "faults")
    # Open temperature sensor -> T_MISSING (safe state); VFD trip -> no flow -> LOW_FLOW.
    assert "T_MISSING" in result.alarms_seen
    assert "LOW_FLOW" in result.alarms_seen
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0
    assert result.ratio_to_oracle >= 0.99


def test_link_drop_in_lockstep_resumes_with_the_elapsed_time(dut):
    """A silent link freezes a lockstep board; the next step carries the gap, which the
    core treats as one period (no integral jump)."""
    dut.expect("hil lockstep 50", r"^ok hil=lockstep")
    before = dut.step(1000, 27.6, 0.55)
    after = dut.step(600_000, 27.6, 0.55)  # ten minutes of silence
    assert int(after["t"]) - int(before["t"]) == 600_000
    assert abs(float(after["out"]) - float(before["out"])) < 5.0
