"""Coefficient sets as files and on a board: read and check a coefficient file,
push a set over a console link, turn the board's `coeffs` answer back into a set.
Used by `copflow coeffs`, `sim`, `hil` and the HIL harness."""

import json
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.paths import import_firmware


def load_file(path: Path) -> dict:
    """Read and validate a coefficient file locally, before anything is sent."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CopflowError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CopflowError(f"{path}: not a JSON coefficient file ({exc})") from None
    import_firmware()
    from core import coeffs

    try:
        coeffs.parse_set(data)
    except coeffs.CoeffError as exc:
        raise CopflowError(f"{path}: {exc}") from None
    return data


def push(link, data: dict, default_name: str) -> None:
    """Load a set on the board; one console line is at most 200 bytes, so a set that
    does not fit goes season by season (each load is validated and atomic)."""
    line = "coeffs load " + json.dumps(data, separators=(",", ":"))
    if len(line) <= 200:
        link.command(line)
        return
    for season in ("cooling", "heating"):
        if season in data:
            part = {"name": data.get("name", default_name), season: data[season]}
            link.command("coeffs load " + json.dumps(part, separators=(",", ":")))


def parse_pulled(body: str) -> dict:
    fields = dict(w.split("=", 1) for w in body.split() if "=" in w)
    out: dict = {"format": "copflow-coeffs/1", "name": fields.get("name", "board")}
    for season in ("cooling", "heating"):
        a, b, c, t, p = fields[season].split("/")
        t_lo, t_hi, t_ref = (float(x) for x in t.split(","))
        p_lo, p_hi = (float(x) for x in p.split(","))
        out[season] = {"a": [float(x) for x in a.split(",")], "b": [float(x) for x in b.split(",")],
                       "c": float(c), "t_lo": t_lo, "t_hi": t_hi, "t_ref": t_ref,
                       "p_lo": p_lo, "p_hi": p_hi}
    return out
