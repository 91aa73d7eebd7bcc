"""What a board says about itself over the console, as host tools read it: `hello`,
`status` and `mem` in one dict, alarms by name (copflow status, log, console)."""

from host_tools import __version__
from host_tools.paths import import_firmware


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
