"""The `copflow` command: one table of subcommands and one top-level error handler."""

import argparse
import importlib
import sys

from host_tools import __version__
from host_tools.errors import CopflowError

# name -> (module under host_tools.commands, one-line help). Modules are imported
# only when their command runs, so a slow import (numpy, matplotlib, wasmtime)
# never delays another command.
COMMANDS = {
    "demo": ("demo", "the paper's bench tests in lockstep HIL on a virtual board"),
    "bench": ("bench", "measure tick cost and allocation on MicroPython and CPython"),
    "presets": ("presets", "list the shipped coefficient presets and check them"),
    "sweep": ("sweep", "repeat the paper's flow sweep on the simulated bench"),
    "fit": ("fit", "fit COP_s(P, t) and the component curves from a CSV"),
    "sim": ("sim", "simulate the firmware core against the plant in closed loop"),
    "campaign": ("campaign", "every plant x season x controller as SIL runs, on Dask"),
    "faults": ("faults", "the fault matrix: each fault, its alarm, ticks to safe, recovery"),
    "board": ("board", "run a virtual bench board; prints its serial port"),
    "console": ("console", "interactive console to a board"),
    "param": ("param", "get, set, list, save, load or reset parameters on a board"),
    "coeffs": ("coeffs", "push a coefficient file to a board, or pull the active set"),
    "status": ("status", "one line on a board: version, uptime, state, flow, alarms, heap"),
    "reset": ("reset", "reset a board (from its app or the REPL) back to a running copflow"),
    "log": ("log", "log a board's telemetry to a timestamped CSV"),
    "plot": ("plot", "plot a telemetry log (copflow log) to a PNG"),
    "config": ("config", "export, import or diff a board's parameters and coefficients (TOML)"),
    "deploy": ("deploy", "compile and copy the firmware to a board, reboot, check it"),
    "hil": ("hil", "run a scenario: the plant simulator drives a board in lockstep"),
}


class Parser(argparse.ArgumentParser):
    """argparse with its errors as one `copflow: ...` line (the usage is under -h)."""

    def error(self, message: str):
        self.exit(2, f"copflow: {self.prog.removeprefix('copflow ')}: {message} "
                     f"(see {self.prog} -h)\n" if self.prog != "copflow"
                  else f"copflow: {message} (see copflow -h)\n")


def _build_parser(only: str | None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="copflow",
        description="Tools for the copflow water-source heat pump loop controller.",
    )
    parser.add_argument("--version", action="version", version=f"copflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == only:
            module = importlib.import_module(f"host_tools.commands.{module_name}")
            module.add_arguments(cmd)
            cmd.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    only = next((a for a in argv if a in COMMANDS), None)
    parser = _build_parser(only)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except CopflowError as exc:
        print(f"copflow: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("copflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`copflow fit ... | head`): not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
