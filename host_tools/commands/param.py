"""`copflow param get|set|list|save|load|defaults`: parameters on a board."""

import argparse
import json

from host_tools.commands._port import add_port_arguments, open_link
from host_tools.errors import CopflowError
from host_tools.paths import import_firmware


def param_help(name: str) -> str:
    """A parameter's help text. The board does not carry it (host_tools/fwbuild.py
    leaves it out of the build); the host reads it from the firmware's table."""
    import_firmware()
    from core import config

    for entry in config.PARAMS:
        if entry[0] == name:
            return entry[5]
    return ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("get", "set", "list", "save", "load", "defaults"))
    parser.add_argument("name", nargs="?", help="parameter name (get, set), prefix (list)")
    parser.add_argument("value", nargs="?", help="new value (set)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.action in ("get", "set") and not args.name:
        raise CopflowError(f"param {args.action} needs a parameter name")
    if args.action == "set" and args.value is None:
        raise CopflowError("param set needs a value")
    with open_link(args) as link:
        if args.action == "get":
            fields = link.command(f"param {args.name}").fields()
            result = {"name": args.name, "value": fields.get(args.name), "unit": fields.get("unit"),
                      "range": fields.get("range"), "help": param_help(args.name)}
            text = f"{args.name} = {result['value']} {result['unit']} (allowed {result['range']})"
            if result["help"]:
                text += f"\n  {result['help']}"
        elif args.action == "set":
            fields = link.command(f"set {args.name} {args.value}").fields()
            result = {"name": args.name, "value": fields.get(args.name)}
            text = f"{args.name} = {result['value']} (not saved: copflow param save)"
        elif args.action == "list":
            response = link.command("list " + (args.name or ""))
            result = {"params": []}
            for line in response.extra:
                words = line.split()[1:]
                name, _, value = words[0].partition("=")
                info = dict(w.split("=", 1) for w in words[1:])
                result["params"].append({"name": name, "value": value, **info,
                                         "help": param_help(name)})
            text = "\n".join(f"{p['name']:<22} {p['value']:>10} {p['unit']:<8} "
                             f"{p['range']:<16} {p['help']}".rstrip()
                             for p in result["params"])
        else:
            body = link.command(args.action, timeout_s=max(args.timeout, 10.0)).body
            result = {"result": body}
            text = body
    print(json.dumps(result) if args.json else text)
    return 0
