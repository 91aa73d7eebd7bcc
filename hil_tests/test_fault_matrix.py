"""The fault matrix (host_tools.faults, `copflow faults`) through a board in lockstep.

Every case runs on the board (virtual by default) and on the core in process; the
board must catch each fault with its own alarm, reach the safe state within 3 ticks
of the fault becoming detectable, recover after the fault with its hysteresis, and
agree with the core in process tick for tick on when.
"""

import pytest

from host_tools import faults
from host_tools.hil import LinkDriver


@pytest.fixture(scope="module")
def in_process():
    return {o.case.name: o for o in faults.run_matrix()}


@pytest.mark.parametrize("name", [c.name for c in faults.CASES])
def test_fault_is_caught_safe_within_3_ticks_and_recovers(dut, in_process, name):
    case = faults.case(name)
    driver = LinkDriver(dut.link)
    try:
        board = faults.run_case(case, driver)
    finally:
        driver.stop()
    assert faults.problems([board]) == []
    local = in_process[name]
    assert faults.problems([local]) == []
    assert board.ticks_to_safe is not None and board.ticks_to_safe <= 3
    # Same core, other interpreter: the same ticks (floats may round differently at
    # a threshold, hence one tick of slack).
    for key in ("alarm_tick", "safe_tick", "clear_tick"):
        assert abs(getattr(board, key) - getattr(local, key)) <= 1, key
    assert set(board.other_alarms) == set(local.other_alarms)


def test_unit_stop_and_start_is_standby_then_auto_without_alarms(dut):
    """Unit stop/start as scenario events: standby while stopped, back to the optimum
    after, and no alarm (no LOW_FLOW from a slow restart, no ACTUATOR, no FLOW_STUCK)."""
    from host_tools.scenario import Event, Scenario

    scenario = Scenario("unit-stop", "cooling", 2400 / 3600, faults.DT_S,
                        events=[Event("unit_stop", 600.0, 1500.0)])
    recorder = faults.Recorder(LinkDriver(dut.link, settings={"optimiser": "model"}))
    from host_tools import sim

    try:
        result, _ = sim.run_scenario(scenario, recorder, sample_every_s=faults.DT_S)
    finally:
        recorder.inner.stop()
    states = [d.state for _, d in recorder.ticks]
    assert set(states[62:150]) == {"standby"}
    assert states[-1] == "auto"
    assert result.alarms_seen == []
    assert abs(result.flow_percent_final - result.optimal_percent_true) <= 3.0
