"""Options and set-up shared by the commands that talk to a board."""

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.link import Link


def add_port_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--port", help="serial port or pyserial URL (/dev/ttyACM0, socket://...)")
    group.add_argument("--virtual", action="store_true",
                       help="start a virtual board for the duration of the command")
    parser.add_argument("--flash", type=Path,
                        help="with --virtual: its flash folder (default: temporary)")
    parser.add_argument("--timeout", type=float, default=3.0, help="response timeout, s")


def check_port(port: str) -> str:
    """A local device path that does not exist is named before any work starts (a URL
    such as socket:// or loop:// is left to pyserial)."""
    import os

    if "://" not in port and not os.path.exists(port):
        raise CopflowError(f"cannot open {port}: no such device (is the board plugged in? "
                           f"ports: /dev/ttyACM*, /dev/ttyUSB*; a virtual board: copflow board)")
    return port


@contextlib.contextmanager
def board_port(args: argparse.Namespace, heap: str | None = None,
               profile: str | None = None) -> Iterator[str]:
    """The port to use: the one given, or a virtual board's that lives for the block
    (with `heap`, e.g. the heap a board profile needs on the host; with `profile`, the
    board runs that profile on its port's machine twin, watchdog included)."""
    if not args.virtual:
        yield check_port(args.port)
        return
    from host_tools.vboard import DEFAULT_ROMFS, VirtualBoard

    with contextlib.ExitStack() as stack:
        flash = args.flash
        if flash is None:
            flash = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "flash"
        # a deploy into a given flash folder starts from the firmware it holds
        rebuild = getattr(args, "command", None) != "deploy"
        # deploy --romfs: a board whose MicroPython build has a ROMFS partition
        romfs = DEFAULT_ROMFS if getattr(args, "romfs", False) else None
        board = stack.enter_context(VirtualBoard(flash, heap=heap, profile=profile,
                                                 log=sys.stderr, rebuild=rebuild,
                                                 romfs=romfs).boot(15.0))
        yield board.port


@contextlib.contextmanager
def open_link(args: argparse.Namespace, on_unsolicited=None) -> Iterator[Link]:
    if args.timeout <= 0:
        raise CopflowError("--timeout must be positive")
    with board_port(args) as port, Link(port, args.timeout, on_unsolicited) as link:
        yield link
