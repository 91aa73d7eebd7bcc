"""The on-line optimiser (the firmware's default) through the board in lockstep: the
same COP_s as software in the loop within 0.5 % (issue 12), and `opt` reports what it
learned. docs/optimiser.md."""

import pytest

from host_tools import hil, sim


def test_online_agrees_with_software_in_the_loop_and_reports_what_it_learned(dut):
    dut.expect("get optimiser", r"^ok optimiser=online")
    scenario = hil.load_scenario("paper-summer")
    result, timing, _ = hil.run(dut.link, scenario)
    local, _ = sim.run_scenario(scenario, sim.CoreDriver(optimiser="online"))
    assert result.cop_s == pytest.approx(local.cop_s, rel=0.005)
    assert result.ratio_to_oracle >= 0.995
    match = dut.expect("opt", r"^ok optimiser=online state=(\w+) season=cooling .*"
                              r"learned cooling=([\d.]+)@")
    assert match.group(1) in ("hold", "seek", "idle")
    assert 50.0 <= float(match.group(2)) <= 130.0
