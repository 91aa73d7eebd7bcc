"""`copflow status --port P`: one line on how a board is doing (version, uptime, state,
season, flow, alarms by name, heap), and a warning if its firmware is not this host's."""

import argparse
import json
import sys

from host_tools import __version__
from host_tools.board_status import read_status
from host_tools.commands._port import add_port_arguments, open_link


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_port_arguments(parser)


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
