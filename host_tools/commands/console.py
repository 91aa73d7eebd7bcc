"""`copflow console`: an interactive console to a board (history, status line, clear errors)."""

import argparse
import os
import sys
import time
from pathlib import Path

from host_tools.commands._port import add_port_arguments, open_link
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.paths import import_firmware

HELP = """Requests go to the board as typed (docs/protocol.md), for example:
  status | get kp | set kp 0.5 | list | coeffs | coeffs preset paper-corrected
  mode auto | out 40 | season heating | alarms | ack | save | reboot
Local commands:  watch (live status, Ctrl-C to stop) | help | quit"""



def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)


def _num(text: str | None) -> str:
    try:
        return f"{float(text):.1f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"


def alarm_names(mask_hex: str) -> str:
    import_firmware()
    from core import alarms

    try:
        names = alarms.names(int(mask_hex, 16))
    except ValueError:
        return mask_hex
    return " ".join(names) if names else "none"


def status_line(link: Link) -> str:
    f = link.command("status").fields()
    season = f.get("season", "?").replace("?", "unknown")
    return (f"[{f.get('mode')}/{f.get('state')}  season {season}  t_in {_num(f.get('t_in_c'))} C"
            f"  flow {_num(f.get('flow_pct'))} % (sp {_num(f.get('flow_sp_pct'))} %)"
            f"  out {_num(f.get('output_pct'))} %  alarms: {alarm_names(f.get('alarms', '0'))}]")


def show(response) -> str:
    if not response.ok:
        return f"error {response.code}: {response.body}"
    lines = [response.body] if response.body else ["ok"]
    lines += response.extra
    return "\n".join(lines)


def _history() -> None:
    try:
        import readline
    except ImportError:  # no readline (Windows): plain input still works
        return
    path = Path(os.path.expanduser("~")) / ".copflow_history"
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    import atexit

    atexit.register(lambda: _save_history(readline, path))


def _save_history(readline, path: Path) -> None:
    try:
        readline.write_history_file(path)
    except OSError:
        pass


def watch(link: Link) -> None:
    print("watching (Ctrl-C to stop)")
    try:
        while True:
            sys.stdout.write("\r" + status_line(link) + "   ")
            sys.stdout.flush()
            time.sleep(1.0)
    except KeyboardInterrupt:
        print()


def run(args: argparse.Namespace) -> int:
    notes: list[str] = []
    with open_link(args, on_unsolicited=notes.append) as link:
        hello = link.command("hello").fields()
        print(f"connected to {link.url}: copflow {hello.get('copflow')} on "
              f"{hello.get('board')}, up {hello.get('uptime_s')} s. Type help for help.")
        _history()
        while True:
            for note in notes:
                print(note)
            notes.clear()
            try:
                print(status_line(link))
                line = input("copflow> ").strip()
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                continue
            except CopflowError as exc:
                print(f"error: {exc}")
                line = input("copflow> ").strip()
            if not line:
                continue
            if line in ("quit", "exit"):
                return 0
            if line == "help":
                print(HELP)
                continue
            if line == "watch":
                watch(link)
                continue
            try:
                print(show(link.request(line, timeout_s=max(args.timeout, 10.0))))
            except CopflowError as exc:
                print(f"error: {exc}")
