"""`copflow board`: run a virtual bench board; its serial port path is the first line printed,
then `bms PATH` / `vfd PATH` for its Modbus lines."""

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.vboard import VirtualBoard, check_heap, check_romfs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flash", type=Path, default=None,
                        help="flash folder, kept across runs (default: a private temporary "
                             "one, removed when the board stops); one board per folder")
    parser.add_argument("--heap", default=None,
                        help="MicroPython heap (default 110K, ESP32-size; with --profile, "
                             "the profile's virtual_heap)")
    parser.add_argument("--board", choices=("esp32", "rp2"), default="esp32",
                        help="MicroPython port the firmware sees (default esp32)")
    parser.add_argument("--profile",
                        help="board profile (esp32-devkitc, pico): the firmware builds its "
                             "drivers on the port's machine twin; default: none (HIL only)")
    parser.add_argument("--hw", type=Path, help="hardware config for the profile (/hw.json)")
    parser.add_argument("--romfs", metavar="SIZE", default=None,
                        help="the board's MicroPython has a ROMFS partition of SIZE (e.g. "
                             "128K, ESP32's partitions-4MiB-romfs.csv), and the firmware's "
                             "modules go there (docs/deploy.md#romfs); default: none, as on "
                             "stock ESP32_GENERIC and RPI_PICO builds")
    parser.add_argument("--bms", action="store_true",
                        help="turn on the BMS Modbus slave (the profile's BMS UART, address 1, "
                             "19200 baud; docs/bms.md); its port is printed as 'bms PATH'")


def run(args: argparse.Namespace) -> int:
    if args.heap is not None:
        check_heap(args.heap)
    if args.romfs is not None:
        check_romfs(args.romfs)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    hw = None
    uarts: dict[str, int] = {}
    if args.profile:
        from host_tools import hwconfig

        hw = hwconfig.read(args.hw) if args.hw else None
        if args.bms:
            hw = hwconfig.with_bms(hw, args.profile)
        plan = hwconfig.check(hw, args.profile, str(args.hw or "default wiring"))
        uarts = hwconfig.modbus_uarts(plan)
        args.board = hwconfig.load_profile(args.profile)["port"]
    elif args.hw or args.bms:
        raise CopflowError(f"{'--hw' if args.hw else '--bms'} needs --profile")
    private = None
    if args.flash is None:
        private = tempfile.mkdtemp(prefix="copflow-board-")
    flash = args.flash or Path(private) / "flash"
    try:
        return _serve(args, flash, hw, uarts, stop, private is not None)
    finally:
        if private:
            shutil.rmtree(private, ignore_errors=True)


def _serve(args, flash: Path, hw, uarts: dict, stop: threading.Event, private: bool) -> int:
    with VirtualBoard(flash, heap=args.heap, board=args.board, profile=args.profile,
                      hw=hw, uarts=uarts, romfs=args.romfs) as board:
        print(board.port, flush=True)
        # Each Modbus line as a port of its own, as an RS-485 adapter on that bus
        # would be (a pseudo-terminal has no parity: open it 8N1 whatever the
        # board's setting; docs/bms.md).
        for name, path in board.uart_ports.items():
            print(f"{name} {path}", flush=True)
        kept = "private, removed at exit" if private else "kept"
        romfs = f", ROMFS {args.romfs}" if args.romfs else ""
        print(f"virtual {args.profile or args.board} board, heap {board.heap}{romfs}, "
              f"flash {flash} "
              f"({kept}); "
              f"connect with: copflow console --port {board.port}   (Ctrl-C here stops it)",
              file=sys.stderr, flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0
