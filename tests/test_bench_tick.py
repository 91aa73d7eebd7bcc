"""`copflow bench` (the control tick) and `--metering` run on the host MicroPython
against the firmware as deployed and report their figures (allocation and times are
reported, never asserted: docs/performance.md)."""

import json

from host_tools.cli import main


def test_the_tick_bench_reports_allocation_with_and_without_metering(capsys):
    assert main(["bench", "--batches", "2", "--metering", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ticks_measured"] == 2 * 50
    assert result["tick_alloc_bytes"] > 0
    metered = result["tick_alloc_bytes_metered"]
    assert set(metered) == {"cooling online", "cooling model", "heating online",
                            "heating model"}
    # The metering is on every tick of these: the on-line optimiser's windows sum it.
    assert all(n > 0 for n in metered.values())
    assert metered["cooling online"] > metered["cooling model"]
