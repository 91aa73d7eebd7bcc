"""`copflow console`: an interactive console to a board: history, Tab completion and help
from the firmware's command and parameter tables, a status line that is current, alarms
by name, missing values shown as missing, telemetry lines as they come, `watch` with
timestamps (and a CSV log), and `reset` to get back from the REPL."""

import argparse
import csv
import os
import time
from datetime import datetime
from pathlib import Path

from host_tools import board_status
from host_tools.commands._port import add_port_arguments, board_port
from host_tools.errors import CopflowError
from host_tools.link import Link, key_values
from host_tools.paths import import_firmware

# Help for every command the board answers (firmware/console.py _COMMANDS and _EXTRA;
# tests/test_console_help.py checks that none is missing), then the local ones.
BOARD_HELP = {
    "hello": "hello -- firmware version, protocol, board, uptime",
    "status": "status -- mode, state, season, measurements, setpoint, output, alarms",
    "list": "list [PREFIX] -- every parameter (or those starting with PREFIX): value, "
            "unit, range",
    "param": "param NAME -- one parameter: value, unit, allowed range (help NAME: meaning)",
    "get": "get NAME -- a parameter's value",
    "set": "set NAME VALUE -- change a parameter in the running config (save keeps it)",
    "mode": "mode off|manual|auto -- off: pump stopped; manual: fixed output; auto: optimise",
    "out": "out PCT -- the actuator output in manual mode",
    "season": "season auto|cooling|heating -- force the season, or follow the unit",
    "save": "save -- write the running config to flash (a power cut loses nothing)",
    "load": "load -- back to the saved config",
    "defaults": "defaults -- every parameter and the coefficients to their defaults",
    "reboot": "reboot -- restart the firmware",
    "maint": "maint -- hard reset into maintenance (no watchdog; for copflow deploy)",
    "hil": "hil [lockstep START|realtime START|off] -- hardware-in-the-loop (copflow hil)",
    "coeffs": "coeffs [preset NAME | set SEASON KEY VALUE | load JSON] -- the coefficient "
              "set (copflow coeffs push FILE from the PC)",
    "lock": "lock PIN -- refuse writes until unlock PIN",
    "unlock": "unlock PIN -- accept writes again",
    "pin": "pin set NEW | pin clear -- the PIN for lock",
    "mem": "mem -- heap: free, allocated, live after collection, collections",
    "tel": "tel on|off | tel period MS -- telemetry lines (!tel), shown as they come",
    "alarms": "alarms -- active and latched alarms, by name",
    "ack": "ack -- clear latched alarms that are no longer active",
    "opt": "opt [reset [cooling|heating]] -- the on-line optimiser: state, estimate, learned "
           "optimum, confidence; reset forgets what it learned (save to keep that)",
}
LOCAL_HELP = {
    "help": "help [NAME] -- this list, or a command's or a parameter's help",
    "watch": "watch [FILE.csv] -- a timestamped status line each second (Ctrl-C stops); "
             "with FILE, also logged as CSV",
    "reset": "reset -- back to a running copflow, from the REPL too (after mpremote)",
    "quit": "quit -- leave (also Ctrl-D)",
}
WORDS = {  # completion of a command's next word
    "mode": ("off", "manual", "auto"), "season": ("auto", "cooling", "heating"),
    "tel": ("on", "off", "period"), "hil": ("lockstep", "realtime", "off"),
    "coeffs": ("preset", "set", "load"), "pin": ("set", "clear"),
}
# requests after which the status line waits for the board's next tick
READS = ("hello", "status", "list", "param", "get", "mem", "alarms")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)


def _params():
    import_firmware()
    from core import config

    return config.PARAMS


def param_names() -> list[str]:
    return [entry[0] for entry in _params()]


def help_text(name: str | None = None) -> str:
    """help: every command; help NAME: a command's line, or a parameter's unit, range,
    default and meaning (from the firmware's parameter table, read on the host)."""
    if not name:
        lines = ["Board commands (sent as typed, docs/protocol.md):"]
        lines += [f"  {text}" for text in BOARD_HELP.values()]
        lines += ["Local commands:"] + [f"  {text}" for text in LOCAL_HELP.values()]
        lines += ["Tab completes commands and parameter names; help NAME explains one."]
        return "\n".join(lines)
    if name in BOARD_HELP or name in LOCAL_HELP:
        return BOARD_HELP.get(name) or LOCAL_HELP[name]
    for pname, unit, low, high, default, meaning in _params():
        if pname == name:
            allowed = "|".join(unit) if isinstance(unit, tuple) else f"{low}..{high} {unit}"
            return f"{pname}: {meaning} (allowed {allowed.strip()}, default {default})"
    raise CopflowError(f"no command or parameter {name!r} (help lists them)")


def completions(line: str, text: str) -> list[str]:
    """Candidates for the word being typed (`text`) given the whole line so far."""
    words = line.split()
    if not words or (len(words) == 1 and not line.endswith(" ")):
        pool: list[str] = list(BOARD_HELP) + list(LOCAL_HELP)
    else:
        first = words[0]
        position = len(words) - (0 if line.endswith(" ") else 1)
        if position != 1 and not (first == "coeffs" and position == 2):
            return []
        if first in ("get", "set", "param", "list"):
            pool = param_names()
        elif first == "help":
            pool = list(BOARD_HELP) + list(LOCAL_HELP) + param_names()
        elif first == "coeffs" and position == 2 and words[1] == "preset":
            import_firmware()
            from core import presets

            pool = list(presets.PRESETS)
        elif first == "coeffs" and position == 2 and words[1] == "set":
            pool = ["cooling", "heating"]
        else:
            pool = list(WORDS.get(first, ()))
    return sorted(w for w in pool if w.startswith(text))


def alarm_names(mask_hex: str) -> str:
    return " ".join(board_status.alarm_names(mask_hex)) or "none"


def _num(text: str | None, unit: str) -> str:
    try:
        return f"{float(text):.1f} {unit}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "missing"


def status_text(f: dict[str, str]) -> str:
    """A status (or !tel) answer as one readable line: alarms by name, and a value the
    board cannot measure as `missing` (the board reports such a flow as 0)."""
    season = f.get("season", "?").replace("?", "unknown")
    names = alarm_names(f.get("alarms", "0"))
    flow = "missing" if "FLOW_MISSING" in names.split() else _num(f.get("flow_pct"), "%")
    return (f"[{f.get('mode')}/{f.get('state')}  season {season}  "
            f"t_in {_num(f.get('t_in_c'), 'C')}  flow {flow} "
            f"(sp {_num(f.get('flow_sp_pct'), '%')})  out {_num(f.get('output_pct'), '%')}"
            f"  alarms: {names}]")


def status_line(link: Link) -> str:
    return status_text(link.command("status").fields())


def show(line: str, response) -> str:
    if not response.ok:
        return f"error {response.code}: {response.body}"
    body = response.body
    if line.split()[0] == "alarms" and body:
        f = key_values(body)
        body = (f"active: {alarm_names(f.get('active', '0'))}; latched: "
                f"{alarm_names(f.get('latched', '0'))}")
    lines = [body] if body else ["ok"]
    lines += response.extra
    return "\n".join(lines)


def unsolicited_text(line: str) -> str:
    stamp = datetime.now().strftime("%H:%M:%S")
    if line.startswith("!tel "):
        return f"{stamp} tel {status_text(key_values(line[5:]))}"
    return f"{stamp} {line}"


def _readline() -> None:
    """History in ~/.copflow_history and Tab completion, where readline exists."""
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

    def complete(text: str, state: int):
        options = completions(readline.get_line_buffer()[:readline.get_endidx()], text)
        return options[state] if state < len(options) else None

    readline.set_completer_delims(" ")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


def _save_history(readline, path: Path) -> None:
    try:
        readline.write_history_file(path)
    except OSError:
        pass


def watch(link: Link, path: Path | None = None) -> None:
    """A timestamped status line each second until Ctrl-C; with `path`, CSV rows as
    `copflow log` writes them."""
    from host_tools.telemetry import COLUMNS, row

    f = writer = None
    if path is not None:
        from host_tools.outputs import check_output_file

        check_output_file(path, "watch")
        f = open(path, "w", newline="")
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
    print("watching (Ctrl-C to stop)" + (f", logging to {path}" if path else ""))
    start = time.monotonic()
    try:
        while True:
            fields = link.command("status").fields()
            print(f"{datetime.now():%H:%M:%S} {status_text(fields)}")
            if writer is not None:
                writer.writerow(row(fields, time.monotonic() - start))
                f.flush()  # type: ignore[union-attr]
            link.pump(time.monotonic() + 1.0)
    except KeyboardInterrupt:
        print()
    finally:
        if f is not None:
            f.close()


class Session:
    """The console's connection: re-opened after a local `reset`."""

    def __init__(self, port: str, timeout_s: float):
        self.port = port
        self.timeout_s = timeout_s
        self.notes: list[str] = []
        self.link = Link(port, timeout_s, self.notes.append)
        self.tick_s = 1.0

    def refresh_tick(self) -> None:
        response = self.link.request("get period_ms")
        if response.ok:
            self.tick_s = float(response.fields().get("period_ms", "1000")) / 1000.0

    def reset(self) -> None:
        from host_tools.board_reset import reset

        self.link.close()
        try:
            boot = reset(self.port, self.timeout_s)
        finally:
            self.link = Link(self.port, self.timeout_s, self.notes.append)
        print(f"copflow running again ({boot[1:]})")

    def flush_notes(self) -> None:
        self.link.pump(time.monotonic())  # what arrived while the prompt waited
        for note in self.notes:
            print(unsolicited_text(note))
        self.notes.clear()


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise CopflowError("--timeout must be positive")
    with board_port(args) as port:
        session = Session(port, args.timeout)
        try:
            return _loop(session, args)
        finally:
            session.link.close()


def _loop(session: Session, args) -> int:
    hello = session.link.command("hello").fields()
    print(f"connected to {session.port}: copflow {hello.get('copflow')} on "
          f"{hello.get('board')}, up {hello.get('uptime_s')} s. Type help for help "
          f"(Tab completes).")
    session.refresh_tick()
    _readline()
    while True:
        try:
            session.flush_notes()
            print(status_line(session.link))
            session.flush_notes()
        except CopflowError as exc:
            print(f"error: {exc}")
            if "no response" in str(exc):
                print("(the board may be at its MicroPython REPL: type reset)")
        try:
            line = input("copflow> ").strip()
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print()
            continue
        if not line:
            continue
        word, _, rest = line.partition(" ")
        try:
            if word in ("quit", "exit"):
                return 0
            if word == "help":
                print(help_text(rest.strip() or None))
                continue
            if word == "watch":
                watch(session.link, Path(rest.strip()) if rest.strip() else None)
                continue
            if word == "reset":
                session.reset()
                session.refresh_tick()
                continue
            response = session.link.request(line, timeout_s=max(args.timeout, 10.0))
            print(show(line, response))
            if response.ok and word not in READS:
                if line.startswith("set period_ms"):
                    session.refresh_tick()
                # the status line after a change shows the board's next tick, not the last
                session.link.pump(time.monotonic() + min(session.tick_s, 2.0) + 0.05)
        except CopflowError as exc:
            print(f"error: {exc}")
