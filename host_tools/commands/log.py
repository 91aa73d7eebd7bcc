"""`copflow log --port P [-o run.csv] [--seconds N]`: the board's `!tel` telemetry as a
timestamped CSV (alarms by name, missing values left empty), with progress on screen.
Ctrl-C ends the log normally; the file holds every row received until then."""

import argparse
import csv
import sys
import time
from datetime import datetime
from pathlib import Path

from host_tools.commands._port import add_port_arguments, open_link
from host_tools.errors import CopflowError
from host_tools.link import key_values
from host_tools.outputs import check_output_file
from host_tools.telemetry import COLUMNS, NUMERIC, row  # noqa: F401


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path,
                        help="CSV to write (default: copflow-log-DATE-TIME.csv here)")
    parser.add_argument("--seconds", type=float,
                        help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--period-ms", type=int, default=1000,
                        help="telemetry period on the board, ms (100..3600000; default 1000)")
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.seconds is not None and not args.seconds > 0:
        raise CopflowError("--seconds must be positive")
    if not 100 <= args.period_ms <= 3_600_000:
        raise CopflowError("--period-ms: allowed 100..3600000")
    output = args.output or Path(f"copflow-log-{datetime.now():%Y%m%d-%H%M%S}.csv")
    check_output_file(output)
    lines: list[str] = []
    try:
        f = open(output, "w", newline="")
    except OSError as exc:
        raise CopflowError(f"cannot write {output}: {exc.strerror}") from None
    n = 0
    with f, open_link(args, on_unsolicited=lines.append) as link:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        link.command(f"tel period {args.period_ms}")
        link.command("tel on")
        start = time.monotonic()
        end = start + args.seconds if args.seconds else float("inf")
        tty = sys.stderr.isatty()
        try:
            while time.monotonic() < end:
                link.pump(min(end, time.monotonic() + 0.2))
                for line in lines:
                    if line.startswith("!tel "):
                        r = row(key_values(line[5:]), time.monotonic() - start)
                        writer.writerow(r)
                        f.flush()
                        n += 1
                        text = (f"{n} rows, {r[1]} s: {r[2]}/{r[3]} flow {r[6] or '-'} % "
                                f"(sp {r[7] or '-'} %) alarms {r[13] or 'none'}")
                        if tty:
                            sys.stderr.write("\r" + text[:110].ljust(110))
                            sys.stderr.flush()
                        elif n % 60 == 1:
                            print(text, file=sys.stderr)
                lines.clear()
        except KeyboardInterrupt:
            pass
        finally:
            if tty:
                sys.stderr.write("\n")
            try:
                link.request("tel off")
            except CopflowError:
                pass
    print(f"wrote {n} rows to {output}")
    return 0
