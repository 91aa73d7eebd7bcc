"""`copflow bench --modbus` measures both Modbus roles on the host MicroPython: it
runs and reports every figure (times are reported, never asserted: docs/performance.md)."""

from host_tools.commands.bench import GUEST_MODBUS_BENCH, bench_micropython

FIGURES = ("modbus_slave_idle_poll_us", "modbus_slave_read7_us", "modbus_slave_read7_max_us",
           "modbus_slave_write_us", "modbus_slave_write_max_us", "modbus_master_read_us",
           "modbus_master_read_max_us", "modbus_together_us", "modbus_together_max_us")


def test_the_modbus_bench_reports_both_roles():
    result = bench_micropython("4M", 1, GUEST_MODBUS_BENCH)
    assert set(FIGURES) <= set(result)
    assert all(isinstance(result[k], int) and result[k] >= 0 for k in FIGURES)
    assert result["modbus_answered"] == 50 + 5 + 50  # every timed transaction completed
    assert result["modbus_together_answered"] == 5  # both roles in each timed slice
