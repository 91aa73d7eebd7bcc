"""`copflow board`: run a virtual bench board; its serial port path is the first line printed."""

import argparse
import signal
import sys
import threading
from pathlib import Path

from host_tools.vboard import VirtualBoard, check_heap, default_flash_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flash", type=Path, default=None,
                        help="flash folder, kept across runs "
                             "(default: ~/.local/share/copflow/flash)")
    parser.add_argument("--heap", default="110K",
                        help="MicroPython heap (default 110K, ESP32-size)")
    parser.add_argument("--board", choices=("esp32", "rp2"), default="esp32",
                        help="board profile the firmware sees")


def run(args: argparse.Namespace) -> int:
    check_heap(args.heap)
    flash = args.flash or default_flash_dir()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with VirtualBoard(flash, heap=args.heap, board=args.board) as board:
        print(board.port, flush=True)
        print(f"virtual {args.board} board, heap {args.heap}, flash {flash}; "
              f"connect with: copflow console --port {board.port}   (Ctrl-C here stops it)",
              file=sys.stderr, flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0
