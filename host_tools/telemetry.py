"""The board's `!tel` lines as table rows (copflow log, and the console's watch log):
host time, seconds since the start, the status words, alarms by name, missing
values left empty (never 0)."""

from datetime import UTC, datetime

from host_tools.board_status import alarm_names

# The CSV's columns: host time, seconds since the log started, then the board's
# status words (firmware/console.py status_words), alarms as names.
FIELDS = ("mode", "state", "season", "t_in_c", "flow_pct", "flow_sp_pct", "p_opt_pct",
          "output_pct", "pump", "cop_model", "cop_meas", "alarms", "ticks")
COLUMNS = ("time_utc", "t_s") + FIELDS
NUMERIC = ("t_in_c", "flow_pct", "flow_sp_pct", "p_opt_pct", "output_pct", "cop_model",
           "cop_meas")


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
