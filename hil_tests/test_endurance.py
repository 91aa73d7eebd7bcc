"""Memory on an ESP32-sized heap (the virtual board runs with 110K by default).

The serve loop collects between slices and records the live heap after each
collection (`mem`); a leak shows as a live heap that climbs over the run.
"""

import pytest

from host_tools import hil
from host_tools.scenario import Scenario

# Allowed difference in the live heap after collection, start to end: the
# console's line buffers and a config copy may be live or not at the moment
# of a collection; a leak of even 1 byte per tick is far above this.
LIVE_SLACK_BYTES = 2048


def _mem(dut) -> dict[str, int]:
    return {k: int(v) for k, v in dut.send("mem").fields().items()}


def _run_and_check(dut, hours: float, dt_s: float):
    scenario = Scenario(f"endurance-{hours:g}h", "cooling", hours=hours, dt_s=dt_s)
    before = _mem(dut)
    result, timing, _ = hil.run(dut.link, scenario)
    after = _mem(dut)
    ticks = int(round(hours * 3600 / dt_s))
    assert timing["ticks"] == ticks  # every step answered: no MemoryError, no reset
    assert after["collections"] > before["collections"]
    assert after["live_last"] <= before["live_last"] + LIVE_SLACK_BYTES
    assert after["live_max"] <= before["live_max"] + LIVE_SLACK_BYTES
    assert "INTERNAL" not in result.alarms_seen
    return after


def test_heap_stays_flat_over_an_hour_of_lockstep(dut):
    after = _run_and_check(dut, hours=1.0, dt_s=1.0)
    assert after["free"] > 0


@pytest.mark.slow
def test_24_hours_of_lockstep_on_a_110k_heap(dut):
    """docs/hil.md: `pytest hil_tests -m slow -k 24_hours` (about 4 minutes)."""
    _run_and_check(dut, hours=24.0, dt_s=1.0)
