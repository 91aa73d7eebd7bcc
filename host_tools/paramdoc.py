"""docs/parameters.md from the firmware's own tables: the controller's parameters
(firmware/core/config.py PARAMS) and each driver's (the PARAMS of the modules
hw.DRIVERS names), as name, unit, range, default and meaning. A test keeps the
file equal to what this renders, so the doc cannot drift from the code.

    .venv/bin/python -m host_tools.paramdoc docs/parameters.md    # regenerate
"""

import sys
from pathlib import Path

from host_tools.paths import import_firmware

HEADER = """# Parameters

Generated from the firmware's parameter tables by `host_tools/paramdoc.py`
(`.venv/bin/python -m host_tools.paramdoc docs/parameters.md`);
`tests/test_parameters_doc.py` fails when this file and the tables differ.
The board checks every value against these ranges (`core/config.py`,
`drivers/params.py`); the help texts live on the host only
(`host_tools/fwbuild.py` leaves them out of the build).
"""


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def _table(params) -> list[str]:
    lines = ["| name | unit | range | default | meaning |", "|---|---|---|---|---|"]
    for name, unit, low, high, default, meaning in params:
        if isinstance(unit, tuple):
            unit_text, range_text = "", " \\| ".join(unit)
        else:
            unit_text, range_text = unit or "", f"{low} .. {high}"
        lines.append(f"| `{name}` | {_cell(unit_text)} | {range_text} | "
                     f"{_cell(default)} | {_cell(meaning)} |")
    return lines


def render() -> str:
    import_firmware()
    import importlib

    import hw
    from core import config

    out = [HEADER, "## The controller (`set NAME VALUE` on the console, "
           "`copflow param`, `copflow config`)", ""]
    out += _table(config.PARAMS)
    seen = set()
    for section, drivers in hw.DRIVERS.items():
        for driver, (module_name, _, _) in drivers.items():
            if (section, driver) in seen:
                continue
            seen.add((section, driver))
            params = importlib.import_module(module_name).PARAMS
            out += ["", f"## `{section}` driver `{driver}` (`/hw.json` "
                    f"`\"{section}\": {{\"driver\": \"{driver}\", \"params\": {{...}}}}`)", ""]
            out += _table(params)
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m host_tools.paramdoc",
                                     description="write docs/parameters.md from the "
                                                 "firmware's parameter tables")
    parser.add_argument("out", type=Path, help="the Markdown file to write")
    args = parser.parse_args(argv)
    if not args.out.parent.is_dir():
        parser.error(f"{args.out.parent}: no such folder")
    args.out.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
