"""`copflow bench`: what one control tick costs on the host MicroPython and on CPython."""

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.micropython import run_micropython
from host_tools.paths import FIRMWARE_DIR, PROJECT_ROOT, import_firmware

GUEST_BENCH = PROJECT_ROOT / "host_tools" / "guest" / "bench_tick.py"
GUEST_CONSOLE_BENCH = PROJECT_ROOT / "host_tools" / "guest" / "bench_console.py"
GUEST_MODBUS_BENCH = PROJECT_ROOT / "host_tools" / "guest" / "bench_modbus.py"
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
    parser.add_argument("--modbus", action="store_true",
                        help="also measure the Modbus RTU slave (BMS) and master (VFD) work "
                             "per slice on MicroPython")
    parser.add_argument("--metering", action="store_true",
                        help="also the allocation per tick with metering (outlet temperature, "
                             "unit and pump power), per season and optimiser")
    parser.add_argument("--memory", action="store_true",
                        help="only the memory budget: boot peak, live heap and module costs "
                             "per board profile on a virtual board, as deployed (.mpy)")


def bench_micropython(heap: str, batches: int, script: Path = GUEST_BENCH,
                      extra: tuple[str, ...] = ()) -> dict:
    """Run a guest benchmark on the host MicroPython against the firmware as deployed:
    its modules as the .mpy files a board gets (copflow deploy), not compiled from
    source on the heap being measured."""
    from host_tools import fwbuild

    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp)
        fwbuild.build(flash, "esp32")
        shutil.copy2(script, flash / script.name)
        result = run_micropython([f"/{script.name}", str(batches), *extra], flash, heap=heap,
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
# with each board profile's drivers on the port's machine twin.
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


# ---- memory budget (--memory) ---------------------------------------------

MEMORY_PROFILES = ("esp32-devkitc", "pico")
# The heap the figures are measured at: roomy, so that what the firmware
# needs is measured rather than where it fails. Figures do not depend on it.
MEMORY_HEAP = "1M"
GUEST_MEMORY = PROJECT_ROOT / "host_tools" / "guest" / "bench_memory.py"
GUEST_MODULES = PROJECT_ROOT / "host_tools" / "guest" / "bench_modules.py"
GUEST_REQUESTS = PROJECT_ROOT / "host_tools" / "guest" / "bench_requests.py"
# Console requests made before the steady-state live heap is read.
STEADY_REQUESTS = ("hello", "status", "get kp", "param kp", "set kp 0.45", "list", "coeffs",
                   "alarms", "mem", "save", "load", "set kp 0.4", "status")


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(tree, known: set[str]) -> set[str]:
    """Firmware modules a module imports when it is imported (not inside functions)."""
    import ast

    out: set[str] = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.If, ast.Try)):
            for block in ("body", "orelse", "finalbody"):
                todo.extend(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                todo.extend(handler.body)
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                if ".".join(parts[:i]) in known:
                    out.add(".".join(parts[:i]))
    return out


def module_order(firmware_dir: Path = FIRMWARE_DIR) -> list[str]:
    """Every firmware module except main, each after the modules it imports at
    module level, so that importing them in this order loads one at a time."""
    import ast

    sources = {}
    for src in sorted(firmware_dir.rglob("*.py")):
        if "__pycache__" in src.parts or src.name == "manifest.py":
            continue
        name = _module_name(src.relative_to(firmware_dir))
        if name != "main":
            sources[name] = src
    known = set(sources)
    deps = {name: _top_level_imports(ast.parse(src.read_text()), known) - {name}
            for name, src in sources.items()}
    for name in sources:  # a package's __init__ runs before its submodules
        if "." in name and name.rsplit(".", 1)[0] in known:
            deps[name].add(name.rsplit(".", 1)[0])
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for dep in sorted(deps[name]):
            visit(dep)
        order.append(name)

    for name in sorted(sources):
        visit(name)
    return order


def _deployed_flash(flash: Path, profile: str, main: Path, romfs: int | None = None) -> None:
    """A flash folder as `copflow deploy` leaves it (`deploy --romfs` with `romfs`,
    the partition's size), with `main` as /main.py and the firmware's main.py kept
    as /fw_main.py."""
    from host_tools import hwconfig
    from host_tools.vboard import install_firmware

    install_firmware(flash, hwconfig.load_profile(profile)["port"], profile, romfs=romfs)
    (flash / "main.py").rename(flash / "fw_main.py")
    (flash / "main.py").write_text(main.read_text())


def _wait_for_file(path: Path, key: str, minimum: int, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = json.loads(path.read_text())
            if data.get(key, 0) >= minimum:
                return data
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise CopflowError(f"the memory benchmark wrote no {path.name} within {timeout_s:g} s")


def measure_boot_and_steady(profile: str, romfs: str | None = None) -> dict:
    """Boot peak and steady live heap of the firmware on a virtual board (with its
    modules in a ROMFS partition of size `romfs`, e.g. "128K", if given)."""
    import subprocess

    from host_tools.fwbuild import romfs_image_bytes
    from host_tools.link import Link
    from host_tools.vboard import ROMFS_FILE, VirtualBoard, heap_bytes

    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp) / "flash"
        _deployed_flash(flash, profile, GUEST_MEMORY, heap_bytes(romfs) if romfs else None)
        stats = flash / "bench_mem.json"
        with VirtualBoard(flash, heap=MEMORY_HEAP, log=subprocess.DEVNULL,
                          profile=profile, romfs=romfs) as board, \
                Link(board.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
            boot = _wait_for_file(stats, "booted", 1, 10.0)
            failed = []
            for line in STEADY_REQUESTS:
                response = link.request(line)
                if not response.ok:
                    failed.append(f"{line}: {response.code} {response.body}")
            time.sleep(2.5)  # control ticks (period 1 s) after the requests
            done = json.loads(stats.read_text())["collections"]
            steady = _wait_for_file(stats, "collections", done + 50, 20.0)
        partition = (flash / ROMFS_FILE).read_bytes() if romfs else b""
    base = boot["baseline"]
    # The firmware's own figures leave out what the virtual board had in its heap
    # before main.py ran (its REPL, the machine twins): a board has those in ROM.
    return {"boot_peak_bytes": boot["boot_peak"] - base,
            "boot_phase_peaks_bytes": [p - base for p in boot["phases"]],
            "boot_phase_live_bytes": [p - base for p in boot["after"]],
            "live_heap_bytes": steady["live"] - base,
            "live_heap_max_bytes": steady["live_max"] - base,
            "steady_peak_bytes": steady["steady_peak"] - base,
            "host_baseline_bytes": base,
            "virtual_board_boot_peak_bytes": boot["boot_peak"],
            "virtual_board_live_heap_bytes": steady["live"],
            "resident_modules": sorted(m for m in boot["modules"] if m in set(module_order())),
            "failed_requests": failed,
            **({"image_bytes": romfs_image_bytes(partition), "partition_bytes": len(partition)}
               if romfs else {})}


def measure_modules(profile: str) -> dict:
    """name -> bytes each firmware module adds to the heap when imported alone."""
    import subprocess

    from host_tools.vboard import VirtualBoard

    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp) / "flash"
        _deployed_flash(flash, profile, GUEST_MODULES)
        (flash / "bench_order.txt").write_text("\n".join(module_order()) + "\n")
        result = flash / "bench_modules.json"
        with VirtualBoard(flash, heap=MEMORY_HEAP, log=subprocess.DEVNULL, profile=profile):
            _wait_for_file(result, "baseline", 0, 180.0)
        return json.loads(result.read_text())


def measure_requests() -> dict:
    """request -> bytes it allocates with no collection inside (firmware as .mpy)."""
    from host_tools.fwbuild import build

    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp)
        build(flash, "esp32")
        (flash / GUEST_REQUESTS.name).write_text(GUEST_REQUESTS.read_text())
        result = run_micropython([f"/{GUEST_REQUESTS.name}"], flash, heap=MEMORY_HEAP,
                                 timeout_s=120)
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    raise CopflowError(f"the request benchmark failed (exit {result.returncode}): "
                       f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")


# With the modules in a ROMFS partition (docs/deploy.md#romfs): a build that has one.
ROMFS_FIGURES = ("boot_peak_bytes", "live_heap_bytes", "steady_peak_bytes",
                 "image_bytes", "partition_bytes", "resident_modules", "failed_requests")


def bench_memory(profiles=MEMORY_PROFILES) -> dict:
    from host_tools.vboard import DEFAULT_ROMFS

    out: dict = {"profiles": {}, "heap_measured_at": MEMORY_HEAP}
    for profile in profiles:
        figures = measure_boot_and_steady(profile)
        costs = measure_modules(profile)
        resident = set(figures["resident_modules"])
        names = [n for n in module_order() if isinstance(costs.get(n), int)]
        figures["modules"] = {n: costs[n] for n in names if n in resident}
        figures["modules_not_resident"] = {n: costs[n] for n in names if n not in resident}
        romfs = measure_boot_and_steady(profile, DEFAULT_ROMFS)
        figures["romfs"] = {key: romfs[key] for key in ROMFS_FIGURES}
        out["profiles"][profile] = figures
    out["requests"] = measure_requests()
    return out


def print_memory(result: dict) -> None:
    print(f"memory on the virtual board, firmware as deployed (.mpy), measured at heap "
          f"{result['heap_measured_at']}:")
    for profile, f in result["profiles"].items():
        code = sum(f["modules"].values())
        print(f"{profile}:")
        print(f"  boot peak          {f['boot_peak_bytes']:>7} bytes  (phases: "
              f"{', '.join(str(p) for p in f['boot_phase_peaks_bytes'])})")
        print(f"  live heap          {f['live_heap_bytes']:>7} bytes  (max "
              f"{f['live_heap_max_bytes']})")
        print(f"  steady peak        {f['steady_peak_bytes']:>7} bytes  (live + one slice's "
              f"garbage, collected every slice)")
        print(f"  virtual board      {f['host_baseline_bytes']:>7} bytes before main.py (REPL, "
              f"machine twins): boot peak {f['virtual_board_boot_peak_bytes']}, live "
              f"{f['virtual_board_live_heap_bytes']} in all")
        print(f"  resident modules   {code:>7} bytes")
        for name, n in sorted(f["modules"].items(), key=lambda kv: -kv[1]):
            print(f"    {name:<26} {n:>6}")
        if f["modules_not_resident"]:
            print("  imported at boot and dropped, or not used by this wiring:")
            for name, n in sorted(f["modules_not_resident"].items(), key=lambda kv: -kv[1]):
                print(f"    {name:<26} {n:>6}")
        for line in f["failed_requests"]:
            print(f"  request failed: {line}")
        r = f["romfs"]
        print(f"  with the modules in a {r['partition_bytes'] // 1024}K ROMFS partition "
              "(a build that has one): "
              f"boot peak {r['boot_peak_bytes']}, live heap {r['live_heap_bytes']}, steady "
              f"peak {r['steady_peak_bytes']} bytes; image {r['image_bytes']} of "
              f"{r['partition_bytes']} bytes")
        for line in r["failed_requests"]:
            print(f"  request failed (ROMFS): {line}")
    print("bytes one console request allocates (no collection inside it):")
    for name, n in result["requests"].items():
        print(f"  {name:<26} {n:>6}")


def run(args: argparse.Namespace) -> int:
    if args.memory:
        result = bench_memory()
        if args.json:
            print(json.dumps(result, indent=2, sort_keys=True))
        else:
            print_memory(result)
        return 0
    if args.batches < 1:
        raise CopflowError("--batches must be at least 1")
    mp = bench_micropython(args.heap, args.batches)
    cp = bench_cpython()
    result = {**mp, **cp, "heap": args.heap}
    if args.metering:
        result["tick_alloc_bytes_metered"] = {
            # Allocation, not collection pauses, is measured here: a roomy heap.
            f"{season} {optimiser}": bench_micropython(
                "512K", args.batches, extra=(str(code), optimiser))["tick_alloc_bytes"]
            for season, code in (("cooling", 1), ("heating", 2))
            for optimiser in ("online", "model")}
    if args.console:
        # Time, not memory, is measured here: a roomy heap keeps collections out of it.
        result.update(bench_micropython("2M", 1, GUEST_CONSOLE_BENCH))
        result.update(bench_link())
    if args.modbus:
        # A roomy heap: collections stay out of the timing (the guest runs none).
        result.update(bench_micropython("4M", 1, GUEST_MODBUS_BENCH))
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
    for name, n in result.get("tick_alloc_bytes_metered", {}).items():
        print(f"  with metering, {name:<15} {n:.0f} bytes per tick")
    print(f"control tick, CPython: median {cp['tick_us_cpython']:.2f} us")
    if args.console:
        print(f"console on MicroPython: get {result['console_get_us_micropython']} us, "
              f"status {result['console_status_us_micropython']} us, "
              f"set {result['console_set_us_micropython']} us, "
              f"{result['console_feed_byte_us_micropython']:.1f} us per byte received")
        print(f"get round trip through the virtual board: median "
              f"{result['get_rtt_ms_median']:.1f} ms, p95 {result['get_rtt_ms_p95']:.1f} ms, "
              f"max {result['get_rtt_ms_max']:.1f} ms")
    if args.modbus:
        print(f"Modbus on MicroPython, per slice: slave idle {result['modbus_slave_idle_poll_us']} "
              f"us, read of 7 input registers {result['modbus_slave_read7_us']} us (max "
              f"{result['modbus_slave_read7_max_us']}), HR write {result['modbus_slave_write_us']} "
              f"us (max {result['modbus_slave_write_max_us']}; a whole-config validation, as a "
              f"console set), master read transaction {result['modbus_master_read_us']} us "
              f"(max {result['modbus_master_read_max_us']}); both in one slice (an HR "
              f"write and a VFD transaction) {result['modbus_together_us']} us (max "
              f"{result['modbus_together_max_us']}); the slice is 10,000 us")
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
