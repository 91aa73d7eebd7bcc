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
    parser.add_argument("--hil", action="store_true",
                        help="also run paper-summer in lockstep through a virtual board: "
                             "ticks/s, round trips, heap and collections on the board")
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


# The virtual boards `bench --hil` measures: without a profile (HIL only), then
# with each board profile's drivers on simulated peripherals.
HIL_PROFILES = (None, "esp32-devkitc", "pico")


def _hil_prefix(profile: str | None) -> str:
    return f"hil_{profile.replace('-', '_')}_" if profile else "hil_"


def _mem(link) -> dict:
    return {k: int(v) for k, v in link.command("mem").fields().items()}


def bench_hil(profile: str | None = None) -> dict:
    """paper-summer (2,160 lockstep ticks) through a virtual board, plus what the
    board's serve loop saw of its heap: collections, the longest pause, live heap."""
    import subprocess

    from host_tools import hil
    from host_tools.link import Link
    from host_tools.vboard import VirtualBoard

    with tempfile.TemporaryDirectory() as tmp, \
            VirtualBoard(Path(tmp) / "flash", log=subprocess.DEVNULL, profile=profile) as board, \
            Link(board.port, timeout_s=10.0) as link:
        link.wait_for("!boot", 30.0)
        boot = _mem(link)
        _, timing, _ = hil.run(link, hil.load_scenario("paper-summer"))
        after = _mem(link)
    prefix = _hil_prefix(profile)
    out = {f"{prefix}heap": board.heap,
           f"{prefix}ticks_per_s": timing["ticks_per_s"],
           f"{prefix}rtt_ms_p50": timing["round_trip_ms_p50"],
           f"{prefix}rtt_ms_p99": timing["round_trip_ms_p99"],
           f"{prefix}rtt_ms_max": timing["max_round_trip_ms"],
           f"{prefix}live_heap_first_bytes": after["live_first"],
           f"{prefix}live_heap_end_bytes": after["live_last"],
           f"{prefix}live_heap_max_bytes": after["live_max"],
           f"{prefix}collections": after["collections"] - boot["collections"],
           f"{prefix}gc_pause_us_max": after["gc_max_us"]}
    return out


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
    if args.hil:
        for profile in HIL_PROFILES:
            result.update(bench_hil(profile))
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
    if args.hil:
        for profile in HIL_PROFILES:
            p = _hil_prefix(profile)
            print(f"HIL lockstep, paper-summer, virtual board "
                  f"{profile or 'without profile'} (heap {result[p + 'heap']}):")
            print(f"  {result[p + 'ticks_per_s']:.0f} ticks/s, round trip median "
                  f"{result[p + 'rtt_ms_p50']:.1f} ms, p99 {result[p + 'rtt_ms_p99']:.1f} ms, "
                  f"max {result[p + 'rtt_ms_max']:.1f} ms")
            print(f"  live heap {result[p + 'live_heap_first_bytes']} bytes at the first "
                  f"collection, {result[p + 'live_heap_end_bytes']} at the last "
                  f"(max {result[p + 'live_heap_max_bytes']}); "
                  f"{result[p + 'collections']} collections, longest "
                  f"{result[p + 'gc_pause_us_max']} us")
    return 0
