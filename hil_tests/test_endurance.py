"""Memory on an ESP32-sized heap (the virtual board runs with 110K by default).

The serve loop collects between slices and records the live heap after each
collection (`mem`); a leak shows as a live heap that climbs over the run. The
default run checks this over the paper scenarios (4,320 lockstep ticks,
test_lockstep.py); the day-long run here is slow.
"""

import pytest

from host_tools import hil
from host_tools.scenario import Scenario


@pytest.mark.slow
def test_24_hours_of_lockstep_on_a_110k_heap(dut):
    """docs/hil.md: `pytest hil_tests -m slow -k 24_hours` (about 4 minutes)."""
    scenario = Scenario("endurance-24h", "cooling", hours=24.0, dt_s=1.0)
    before = dut.mem()
    result, timing, _ = hil.run(dut.link, scenario)
    assert timing["ticks"] == 24 * 3600  # every step answered: no MemoryError, no reset
    dut.assert_heap_flat(before)
    assert "INTERNAL" not in result.alarms_seen
