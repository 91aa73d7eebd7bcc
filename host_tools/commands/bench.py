"""`copflow bench`: what one control tick costs on the host MicroPython and on CPython."""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.micropython import make_flash, run_micropython
from host_tools.paths import PROJECT_ROOT, import_firmware

GUEST_BENCH = PROJECT_ROOT / "host_tools" / "guest" / "bench_tick.py"
MARKER = "BENCH-RESULT "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--heap", default="110K",
                        help="MicroPython heap (default 110K, an ESP32-sized heap)")
    parser.add_argument("--batches", type=int, default=400,
                        help="MicroPython ticks run = 50 x this (default 400: 20,000 ticks)")


def bench_micropython(heap: str, batches: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        flash = make_flash(Path(tmp), extra={"bench_tick.py": GUEST_BENCH})
        result = run_micropython(["/bench_tick.py", str(batches)], flash, heap=heap,
                                 timeout_s=600)
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    raise CopflowError(f"the MicroPython benchmark failed (exit {result.returncode}): "
                       f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")


def bench_cpython(ticks: int = 50_000) -> dict:
    import_firmware()
    from core.controller import Controller

    c = Controller()
    m = c.meas
    m.t_in_c, m.flow_m3h, m.unit_running, m.unit_mode = 27.6, 0.55, True, 1
    for i in range(300):
        c.step(i * 1000)
    samples = []
    clock = time.perf_counter_ns
    for i in range(300, 300 + ticks):
        m.flow_m3h = 0.55 + (i & 7) * 0.001
        m.t_in_c = 27.6 + (i & 3) * 0.01
        t0 = clock()
        c.step(i * 1000)
        samples.append(clock() - t0)
    return {"tick_us_cpython": statistics.median(samples) / 1000.0,
            "ticks_cpython": ticks}


def run(args: argparse.Namespace) -> int:
    if args.batches < 1:
        raise CopflowError("--batches must be at least 1")
    mp = bench_micropython(args.heap, args.batches)
    cp = bench_cpython()
    result = {**mp, **cp, "heap": args.heap}
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    growth = mp["heap_live_end_bytes"] - mp["heap_live_start_bytes"]
    print(f"control tick, host MicroPython (heap {args.heap}, {mp['ticks_measured']} ticks):")
    print(f"  median {mp['tick_us_micropython']} us, p99 {mp['tick_us_p99_micropython']} us")
    print(f"  allocated per tick  {mp['tick_alloc_bytes']:.0f} bytes (steady state)")
    print(f"  live heap           {mp['heap_live_start_bytes']} -> "
          f"{mp['heap_live_end_bytes']} bytes ({growth:+d})")
    print(f"  longest collection  {mp['gc_pause_us_max']} us")
    print(f"control tick, CPython: median {cp['tick_us_cpython']:.2f} us")
    return 0
