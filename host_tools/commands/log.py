"""`copflow log --port P [-o run.csv] [--seconds N]`: the board's `!tel` telemetry as a
timestamped CSV (alarms by name, missing values left empty), with progress on screen.
Ctrl-C ends the log normally; the file holds every row received until then."""

import argparse
import csv
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from host_tools.commands._port import add_port_arguments, open_link
from host_tools.commands.status import alarm_names
from host_tools.errors import CopflowError
from host_tools.link import key_values
from host_tools.outputs import check_output_file

# The CSV's columns: host time, seconds since the log started, then the board's
# status words (firmware/console.py status_words), alarms as names.
FIELDS = ("mode", "state", "season", "t_in_c", "flow_pct", "flow_sp_pct", "p_opt_pct",
          "output_pct", "pump", "cop_model", "cop_meas", "alarms", "ticks")
COLUMNS = ("time_utc", "t_s") + FIELDS
NUMERIC = ("t_in_c", "flow_pct", "flow_sp_pct", "p_opt_pct", "output_pct", "cop_model",
           "cop_meas")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path,
                        help="CSV to write (default: copflow-log-DATE-TIME.csv here)")
    parser.add_argument("--seconds", type=float,
                        help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--period-ms", type=int, default=1000,
                        help="telemetry period on the board, ms (100..3600000; default 1000)")
    add_port_arguments(parser)


def row(fields: dict[str, str], t_s: float) -> list[str]:
    out = [datetime.now(UTC).isoformat(timespec="milliseconds"), f"{t_s:.3f}"]
    for name in FIELDS:
        value = fields.get(name, "")
        if name == "alarms":
            value = " ".join(alarm_names(value or "0"))
        elif name == "season":
            value = "" if value == "?" else value
        elif value == "none":
            value = ""  # missing stays missing, never 0
        elif name in ("p_opt_pct", "cop_model") and fields.get("season", "?") == "?":
            value = ""  # no season, no model: the board's 0 means "none"
        out.append(value)
    if "FLOW_MISSING" in out[2 + FIELDS.index("alarms")].split():
        out[2 + FIELDS.index("flow_pct")] = ""
    return out


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
