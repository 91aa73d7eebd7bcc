"""Coefficient sets as files and on a board: read and check a coefficient file,
push a set over a console link, turn the board's `coeffs` answer back into a set.
Used by `copflow coeffs`, `sim`, `hil` and the HIL harness.

Numbers travel with 6 significant digits, the precision the board answers `coeffs`
with (firmware/console.py fmt, "%.6g"): a pushed set then pulls back unchanged. A
6-digit decimal also survives the board's single-precision floats (2^24 > 10^6).
"""

import json
import math
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.link import MAX_LINE
from host_tools.paths import import_firmware

SEASONS = ("cooling", "heating")
SCALARS = ("t_lo", "t_hi", "t_ref", "p_lo", "p_hi")
DIGITS = 6


def load_file(path: Path) -> dict:
    """Read and validate a coefficient file locally, before anything is sent."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CopflowError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CopflowError(f"{path}: is a directory, not a coefficient file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CopflowError(f"{path}: not a JSON coefficient file ({exc})") from None
    import_firmware()
    from core import coeffs

    try:
        coeffs.parse_set(data)
    except coeffs.CoeffError as exc:
        raise CopflowError(f"{path}: {exc}") from None
    return data


def round6(x: float) -> float:
    """x to the 6 significant digits the board reports."""
    return float(f"{float(x):.{DIGITS}g}")


def number_text(x: float) -> str:
    """The shortest JSON text of round6(x): `11` not `11.0`, `-1.67545e-5` not
    `-1.67545e-05`; MicroPython's json reads both."""
    x = round6(x)
    if not math.isfinite(x):
        raise CopflowError(f"not a finite number: {x!r}")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.{DIGITS}g}"
    mantissa, e, exponent = text.partition("e")
    if e:
        text = f"{mantissa}e{int(exponent)}"
    plain = repr(x)  # shortest round-trip text; may be shorter than the %g form
    return plain if "e" not in plain and len(plain) < len(text) else text


def compact_season(entry: dict) -> dict:
    """A season entry with 6-digit numbers, trailing zero terms and zero b/c left out
    (the firmware reads a missing b as zeros and a missing c as 0)."""
    out: dict = {}
    for key in ("a", "b"):
        values = [round6(v) for v in entry.get(key) or []]
        while len(values) > 1 and values[-1] == 0.0:
            values.pop()
        if key == "a" or any(values):
            out[key] = values
    if round6(entry.get("c", 0.0)) != 0.0:
        out["c"] = round6(entry["c"])
    for key in SCALARS:
        out[key] = round6(entry[key])
    return out


def season_json(entry: dict) -> str:
    """The compact JSON text of a compacted season entry."""
    parts = []
    for key, value in entry.items():
        if isinstance(value, list):
            parts.append(f'"{key}":[{",".join(number_text(v) for v in value)}]')
        else:
            parts.append(f'"{key}":{number_text(value)}')
    return "{" + ",".join(parts) + "}"


def load_line(name: str | None, seasons: dict[str, dict]) -> str:
    head = [f'"name":{json.dumps(name)}'] if name is not None else []
    body = [f'"{s}":{season_json(e)}' for s, e in seasons.items()]
    return "coeffs load {" + ",".join(head + body) + "}"


def as_sent(data: dict) -> dict:
    """The set as the board will hold it: 6-digit numbers, every key present (what
    `coeffs pull` returns after a push of `data`)."""
    out: dict = {"format": "copflow-coeffs/1", "name": set_name(data, "board")}
    for season in SEASONS:
        if season in data:
            e = compact_season(data[season])
            out[season] = {"a": (e["a"] + [0.0] * 4)[:4],
                           "b": (e.get("b", []) + [0.0] * 4)[:4],
                           "c": e.get("c", 0.0), **{k: e[k] for k in SCALARS}}
    return out


def set_name(data: dict, default_name: str) -> str:
    """The name the set carries on the board: one word (the board's `coeffs` answer
    is space-separated words), at most 24 characters."""
    name = str(data.get("name") or default_name)
    name = "".join(ch if ch.isalnum() or ch in "-_.+" else "-" for ch in name)[:24]
    return name or "custom"


def push(link, data: dict, default_name: str) -> None:
    """Load a set on the board without a line ever exceeding its limit (200 bytes).

    The whole set in one `coeffs load` when it fits; otherwise one request per season
    (each validated and atomic on the board; the name rides on one that fits). A season
    that fits in no line goes key by key (`coeffs set`), undone in reverse order if the
    board refuses a step, so the board is left as it was. Any `err` the board sends is
    raised verbatim (LinkError).
    """
    name = set_name(data, default_name)
    seasons = {s: compact_season(data[s]) for s in SEASONS if s in data}
    line = load_line(name, seasons)
    if len(line) <= link.room():
        link.command(line)
        return
    room = link.room() - 2  # a tag that grows by a digit meanwhile
    by_key = [s for s, e in seasons.items() if len(load_line(None, {s: e})) > room]
    for season in by_key:  # first: each `coeffs set` marks the name with a *
        _push_keys(link, season, seasons[season])
    named = False
    for season, entry in seasons.items():
        if season in by_key:
            continue
        if not named and len(load_line(name, {season: entry})) <= room:
            link.command(load_line(name, {season: entry}))
            named = True
        else:
            link.command(load_line(None, {season: entry}))
    if not named:
        _rename(link, name)


def _push_keys(link, season: str, entry: dict, undo: bool = True) -> None:
    """A season too long for one line: first its coefficients with its ranges shortened
    (rounded inward to fewer decimals, so the model the board checks is the new one over
    part of its range), then each range end set exactly (`coeffs set`), which only
    widens. If the board refuses a step, the season it held before is put back."""
    before = parse_pulled(link.command("coeffs").body)[season]
    room = link.room() - 2
    for decimals in (3, 2, 1, 0):
        short = _inward(entry, decimals)
        line = load_line(None, {season: short})
        if len(line) <= room:
            break
    else:
        raise CopflowError(f"{season}: its coefficients do not fit in one {MAX_LINE}-"
                           f"byte console line even with short ranges")
    try:
        link.command(line)
        exact = as_sent({season: entry})[season]
        for key in ("t_lo", "t_hi", "p_lo", "p_hi", "t_ref"):
            if short[key] != exact[key]:
                link.command(f"coeffs set {season} {key} {number_text(exact[key])}")
    except CopflowError:
        if undo:
            try:
                _push_season_back(link, season, before)
            except CopflowError:
                pass
        raise


def _push_season_back(link, season: str, entry: dict) -> None:
    line = load_line(None, {season: compact_season(entry)})
    if len(line) <= link.room():
        link.command(line)
    else:
        _push_keys(link, season, entry, undo=False)


def _inward(entry: dict, decimals: int) -> dict:
    """The compact entry with t_lo..t_hi and p_lo..p_hi rounded inward, t_ref rounded
    and kept within them."""
    out = dict(entry)
    scale = 10.0 ** decimals
    out["t_lo"] = round6(math.ceil(entry["t_lo"] * scale - 1e-9) / scale)
    out["p_lo"] = round6(math.ceil(entry["p_lo"] * scale - 1e-9) / scale)
    out["t_hi"] = round6(math.floor(entry["t_hi"] * scale + 1e-9) / scale)
    out["p_hi"] = round6(math.floor(entry["p_hi"] * scale + 1e-9) / scale)
    t_ref = round6(round(entry["t_ref"] * scale) / scale)
    out["t_ref"] = min(max(t_ref, out["t_lo"]), out["t_hi"])
    return out


def _rename(link, name: str) -> None:
    """Give the board's set `name`: reload a season it now holds, with the name, in
    the shortest line that fits."""
    held = parse_pulled(link.command("coeffs").body)
    lines = sorted((load_line(name, {s: compact_season(held[s])}) for s in SEASONS),
                   key=len)
    if len(lines[0]) <= link.room():
        link.command(lines[0])


def parse_pulled(body: str) -> dict:
    fields = dict(w.split("=", 1) for w in body.split() if "=" in w)
    out: dict = {"format": "copflow-coeffs/1", "name": fields.get("name", "board")}
    try:
        for season in SEASONS:
            a, b, c, t, p = fields[season].split("/")
            t_lo, t_hi, t_ref = (float(x) for x in t.split(","))
            p_lo, p_hi = (float(x) for x in p.split(","))
            out[season] = {"a": [float(x) for x in a.split(",")],
                           "b": [float(x) for x in b.split(",")],
                           "c": float(c), "t_lo": t_lo, "t_hi": t_hi, "t_ref": t_ref,
                           "p_lo": p_lo, "p_hi": p_hi}
    except (KeyError, ValueError):
        raise CopflowError(f"cannot read the board's coefficient set from {body[:80]!r}") from None
    return out
