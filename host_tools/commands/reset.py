"""`copflow reset --port P`: back to a running copflow, from wherever the board is: the
running app (`reboot`), or the MicroPython REPL, friendly or raw, after mpremote or a
Ctrl-C (leave raw mode, soft reset: main.py runs). Waits for `!boot` and `hello`."""

import argparse

from host_tools.board_reset import reset
from host_tools.commands._port import add_port_arguments, board_port
from host_tools.errors import CopflowError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise CopflowError("--timeout must be positive")
    with board_port(args) as port:
        boot = reset(port, args.timeout)
    print(f"{port}: copflow running ({boot[1:]})")
    return 0
