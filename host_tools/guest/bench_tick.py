# Runs inside the host MicroPython (copied to the flash root with firmware/).
# Measures a full control tick: median time, allocation per tick in steady
# state, live heap before/after a long run, and the cost of a collection.
# Frames that are active during gc.collect() stay small (see
# docs/micropython-host.md); big work happens in functions that return first.
import gc

gc.disable()
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from array import array  # noqa: E402

from core.controller import Controller  # noqa: E402

_BATCH = 50
# With a season (1 cooling, 2 heating) and an optimiser as arguments, every tick
# also carries the metering (outlet temperature, unit and pump power) the on-line
# optimiser and the outlet guard work on (`copflow bench --metering`).
_SEASON = int(sys.argv[2]) if len(sys.argv) > 3 else 0
_OPTIMISER = sys.argv[3] if len(sys.argv) > 3 else None
_T_IN = 6.5 if _SEASON == 2 else 27.6
_T_OUT = 1.3 if _SEASON == 2 else 33.0
_TIMED_BATCHES = 40  # per-tick times kept for the median (preallocated)
R = {"times": None, "n": 0, "alloc": 0, "ticks": 0, "pause_us": 0}


def make():
    c = Controller()
    m = c.meas
    m.t_in_c = _T_IN
    m.flow_m3h = 0.55
    m.unit_running = True
    m.unit_mode = _SEASON or 1
    if _OPTIMISER:
        c.set_param("optimiser", _OPTIMISER)
        m.t_out_c = _T_OUT
        m.p_unit_w = 900.0
        m.p_pump_w = 240.0
    return c


def batch(c, start, record):
    m = c.meas
    times = R["times"]
    a0 = gc.mem_alloc()
    for k in range(_BATCH):
        i = start + k
        m.flow_m3h = 0.55 + (i & 7) * 0.001
        m.t_in_c = _T_IN + (i & 3) * 0.01
        if _OPTIMISER:
            m.t_out_c = _T_OUT + (i & 3) * 0.01
        t0 = time.ticks_us()
        c.step(i * 1000)
        dt = time.ticks_diff(time.ticks_us(), t0)
        if record and R["n"] < len(times):
            times[R["n"]] = dt
            R["n"] += 1
    if record:
        R["alloc"] += gc.mem_alloc() - a0
        R["ticks"] += _BATCH


def timed_collect():
    t0 = time.ticks_us()
    gc.collect()
    R["pause_us"] = max(R["pause_us"], time.ticks_diff(time.ticks_us(), t0))


def report(live_start, live_end):
    times = sorted(R["times"][: R["n"]])
    print("BENCH-RESULT " + json.dumps({
        "tick_us_micropython": times[len(times) // 2],
        "tick_us_p99_micropython": times[(len(times) * 99) // 100],
        "tick_alloc_bytes": R["alloc"] / R["ticks"],
        "ticks_measured": R["ticks"],
        "ticks_timed": R["n"],
        "heap_live_start_bytes": live_start,
        "heap_live_end_bytes": live_end,
        "gc_pause_us_max": R["pause_us"],
        "heap_free_bytes": gc.mem_free(),
    }))


def run(batches):
    gc.collect()  # the imports' garbage: the times' buffer (8 KB) needs a free run
    R["times"] = array("i", range(_TIMED_BATCHES * _BATCH))
    c = make()
    gc.collect()
    for b in range(6):  # warm-up: the first optimisations, filters settle
        batch(c, b * _BATCH, False)
        gc.collect()
    live_start = gc.mem_alloc()
    for b in range(6, 6 + batches):
        batch(c, b * _BATCH, True)
        timed_collect()
    report(live_start, gc.mem_alloc())


run(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
