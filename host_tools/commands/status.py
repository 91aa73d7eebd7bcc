"""`copflow status --port P`: one line on how a board is doing (version, uptime, state,
season, flow, alarms by name, heap), and a warning if its firmware is not this host's."""

import argparse
import json
import sys

from host_tools import __version__
from host_tools.commands._port import add_port_arguments, open_link
from host_tools.paths import import_firmware


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_port_arguments(parser)


def alarm_names(mask_hex: str) -> list[str]:
    import_firmware()
    from core import alarms

    try:
        return list(alarms.names(int(mask_hex, 16)))
    except ValueError:
        return [mask_hex]


def number(text: str | None) -> float | None:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # `none`: the board has no value (a missing sensor)


def read_status(link) -> dict:
    hello = link.command("hello").fields()
    status = link.command("status").fields()
    mem = link.command("mem").fields()
    season = status.get("season", "?")
    names = alarm_names(status.get("alarms", "0"))
    # the board reports 0 % for a flow it cannot measure: missing is shown as missing
    flow_missing = "FLOW_MISSING" in names
    return {
        "version": hello.get("copflow"), "board": hello.get("board"),
        "uptime_s": int(hello.get("uptime_s", "0")),
        "mode": status.get("mode"), "state": status.get("state"),
        "season": None if season == "?" else season,
        "t_in_c": number(status.get("t_in_c")),
        "flow_pct": None if flow_missing else number(status.get("flow_pct")),
        "flow_sp_pct": number(status.get("flow_sp_pct")),
        "alarms": names,
        "heap_free": int(mem.get("free", "-1")), "heap_live": int(mem.get("live_last", "-1")),
        "host_version": __version__,
    }


def _value(x: float | None, unit: str) -> str:
    return "missing" if x is None else f"{x:.1f} {unit}"


def line(s: dict) -> str:
    uptime = s["uptime_s"]
    up = f"{uptime // 3600}h{uptime % 3600 // 60:02d}m" if uptime >= 3600 else f"{uptime} s"
    return (f"copflow {s['version']} on {s['board']}, up {up}: {s['mode']}/{s['state']}, "
            f"season {s['season'] or 'unknown'}, t_in {_value(s['t_in_c'], 'C')}, "
            f"flow {_value(s['flow_pct'], '%')} (sp {_value(s['flow_sp_pct'], '%')}), "
            f"alarms {' '.join(s['alarms']) or 'none'}, heap {s['heap_free']} B free, "
            f"{s['heap_live']} B live")


def run(args: argparse.Namespace) -> int:
    with open_link(args) as link:
        s = read_status(link)
    if s["version"] != __version__:
        print(f"copflow: warning: the board runs copflow {s['version']}, this host "
              f"{__version__} (copflow deploy --port ... updates it)", file=sys.stderr)
    print(json.dumps(s) if args.json else line(s))
    return 0
