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
GUEST_CONSOLE_BENCH = PROJECT_ROOT / "host_tools" / "guest" / "bench_console.py"
MARKER = "BENCH-RESULT "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--heap", default="110K",
                        help="MicroPython heap (default 110K, an ESP32-sized heap)")
    parser.add_argument("--batches", type=int, default=400,
                        help="MicroPython ticks run = 50 x this (default 400: 20,000 ticks)")
    parser.add_argument("--console", action="store_true",
                        help="also measure the console: cost on MicroPython, get round trip "
                             "through a virtual board")


def bench_micropython(heap: str, batches: int, script: Path = GUEST_BENCH) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        flash = make_flash(Path(tmp), extra={script.name: script})
        result = run_micropython([f"/{script.name}", str(batches)], flash, heap=heap,
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


def bench_link(requests: int = 300) -> dict:
    """Round trip of `get kp` through a virtual board's pty, as a host tool sees it."""
    import subprocess

    from host_tools.link import Link
    from host_tools.vboard import VirtualBoard

    with tempfile.TemporaryDirectory() as tmp, \
            VirtualBoard(Path(tmp) / "flash", log=subprocess.DEVNULL) as board, \
            Link(board.port, timeout_s=10.0) as link:
        link.wait_for("!boot", 20.0)
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            link.command("get kp")
            samples.append((time.perf_counter() - t0) * 1000.0)
    samples.sort()
    return {"get_rtt_ms_median": statistics.median(samples),
            "get_rtt_ms_p95": samples[int(len(samples) * 0.95)],
            "get_rtt_ms_max": samples[-1]}


def run(args: argparse.Namespace) -> int:
    if args.batches < 1:
        raise CopflowError("--batches must be at least 1")
    mp = bench_micropython(args.heap, args.batches)
    cp = bench_cpython()
    result = {**mp, **cp, "heap": args.heap}
    if args.console:
        # Time, not memory, is measured here: a roomy heap keeps collections out of it.
        result.update(bench_micropython("2M", 1, GUEST_CONSOLE_BENCH))
        result.update(bench_link())
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
    if args.console:
        print(f"console on MicroPython: get {result['console_get_us_micropython']} us, "
              f"status {result['console_status_us_micropython']} us, "
              f"set {result['console_set_us_micropython']} us, "
              f"{result['console_feed_byte_us_micropython']:.1f} us per byte received")
        print(f"get round trip through the virtual board: median "
              f"{result['get_rtt_ms_median']:.1f} ms, p95 {result['get_rtt_ms_p95']:.1f} ms, "
              f"max {result['get_rtt_ms_max']:.1f} ms")
    return 0
