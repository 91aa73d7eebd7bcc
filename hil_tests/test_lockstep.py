"""Lockstep HIL behaviour of the firmware on a board (virtual by default)."""

import pytest

from host_tools import hil, sim


def test_hil_is_refused_unless_allowed(dut):
    dut.expect("set hil off", r"^ok hil=off")
    dut.expect("hil lockstep", r"^err E_STATE .*set hil allowed")


def test_paper_scenarios_agree_with_software_in_the_loop(dut):
    """Same core, other path: COP_s within 0.5 % of copflow sim on the same scenario,
    with the model's optimum (the on-line optimiser's own run: test_optimiser_hil.py),
    and the board's heap flat over the 4,320 ticks (test_endurance.py)."""
    before = dut.mem()
    for name in ("paper-summer", "paper-winter"):
        scenario = hil.load_scenario(name)
        result, timing, pp = hil.run(dut.link, scenario, settings={"optimiser": "model"})
        local, _ = sim.run_scenario(scenario, sim.CoreDriver(optimiser="model"))
        assert "INTERNAL" not in result.alarms_seen
        assert result.cop_s == pytest.approx(local.cop_s, rel=0.005)
        assert result.ratio_to_oracle >= 0.99
        assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0
        assert timing["ticks"] == int(scenario.hours * 3600 / scenario.dt_s)
        # The board's own measured COP_s (loop heat from flow and temperature rise,
        # power from the meters) against the plant's COP_s at the end.
        assert timing["board_cop_meas"] == pytest.approx(result.series["cop_s"][-1], rel=0.01)
    dut.assert_heap_flat(before)


@pytest.mark.parametrize("optimiser", ["model", "online"])
def test_interlock_holds_when_the_optimiser_asks_for_less(dut, optimiser):
    dut.expect(f"set optimiser {optimiser}", r"^ok")
    dut.expect("set min_flow_heating_pct 70", r"^ok")
    dut.expect("hil lockstep 30", r"^ok hil=lockstep")
    # 80 s: the setpoint slews at most 0.5 %/s from wherever the board's last run left
    # it (100 % on a fresh board), so it reaches the interlock whatever ran before.
    for _ in range(80):
        fields = dut.step(1000, 11.5, 0.3, 1, 2)
    assert float(fields["popt"]) < 60.0
    if optimiser == "model":
        assert float(fields["sp"]) == pytest.approx(70.0)
    else:  # the on-line optimiser keeps a point above the interlock (docs/optimiser.md)
        assert 70.0 <= float(fields["sp"]) <= 71.0 + 1e-6


def test_sensor_fault_reaches_the_safe_state_and_recovers(dut):
    dut.expect("hil lockstep 50", r"^ok hil=lockstep")
    for _ in range(5):
        dut.step(1000, 27.6, 0.55)
    states = [dut.step(1000, None, 0.55)["state"] for _ in range(3)]
    assert states[-1] == "safe"  # fault_ticks = 3: declared on the third bad sample
    fields = dut.step(1000, None, 0.55)
    assert float(fields["sp"]) == pytest.approx(100.0)  # fallback flow
    assert int(fields["alarms"], 16) & 1  # T_MISSING
    for _ in range(10):  # recover_ticks = 10 good samples
        fields = dut.step(1000, 27.6, 0.55)
    assert fields["state"] == "auto" and not int(fields["alarms"], 16) & 1
