"""`copflow coeffs push FILE | pull [-o FILE]`: coefficient sets to and from a board."""

import argparse
import json
from pathlib import Path

from host_tools.coeffs_file import load_file, parse_pulled, push
from host_tools.commands._port import add_port_arguments, open_link
from host_tools.errors import CopflowError
from host_tools.outputs import check_output_file, write_text_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("push", "pull"))
    parser.add_argument("file", nargs="?", type=Path, help="coefficient file (JSON) to push")
    parser.add_argument("-o", "--output", type=Path, help="pull: write the set here")
    parser.add_argument("--save", action="store_true", help="push: also save on the board")
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.action == "push":
        if args.file is None:
            raise CopflowError("coeffs push needs a FILE")
        if args.output:
            raise CopflowError("-o is for coeffs pull")
        data = load_file(args.file)
        with open_link(args) as link:
            push(link, data, args.file.stem)
            if args.save:
                link.command("save", timeout_s=10.0)
            print(f"pushed {args.file}" + (" and saved" if args.save else " (not saved)"))
        return 0
    if args.output:
        check_output_file(args.output)
    with open_link(args) as link:
        data = parse_pulled(link.command("coeffs").body)
    text = json.dumps(data, indent=2) + "\n"
    if args.output:
        write_text_atomic(args.output, text)
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
