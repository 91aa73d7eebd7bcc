# The `coeffs` console command (docs/protocol.md): show, preset, set one value,
# load a set. Its own module, imported by console.py for one request and dropped
# again like console_extra.py: a set pushed at the bench (`copflow coeffs push`,
# a season per line) then carries only this code through its validation, which
# on a stock ESP32 heap is what decides whether it fits (docs/performance.md).
import json

from console import ConsoleError, _parse_number, fmt
from core.coeffs import season_to_dict

_COEFF_KEYS = ("a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "c", "t_lo", "t_hi", "t_ref",
               "p_lo", "p_hi")


def cmd_coeffs(console, args):
    c = console.app.controller
    if not args:
        data = c.config["coeffs"]
        return "name=%s cooling=%s heating=%s" % (
            data.get("name", "?"), _season_words(c, "cooling"), _season_words(c, "heating"))
    sub = args[0]
    if sub == "preset":
        console._need(args, 2, "coeffs preset NAME")
        from core import presets

        try:
            data = presets.preset(args[1])
        except KeyError as exc:
            raise ConsoleError("E_UNKNOWN", str(exc.args[0]))
        c.load_coeffs(data, merge=False)
    elif sub == "set":
        console._need(args, 4, "coeffs set cooling|heating KEY VALUE")
        season, key = args[1], args[2]
        if season not in ("cooling", "heating") or key not in _COEFF_KEYS:
            raise ConsoleError("E_SYNTAX", "coeffs set cooling|heating KEY VALUE; KEY one "
                               "of " + ",".join(_COEFF_KEYS))
        entry = season_to_dict(c.model(1 if season == "cooling" else 2))
        value = _parse_number(args[3])
        if key[0] in "ab" and len(key) == 2:
            vec = list(entry[key[0]])
            vec[int(key[1])] = value
            entry[key[0]] = vec
        else:
            entry[key] = value
        name = c.config["coeffs"].get("name", "custom")
        c.load_coeffs({"name": name + "*", season: entry})
    elif sub == "load":
        text = " ".join(args[1:])
        try:
            data = json.loads(text)
        except ValueError:
            raise ConsoleError("E_SYNTAX", "coeffs load takes one JSON object")
        c.load_coeffs(data)
    else:
        raise ConsoleError("E_SYNTAX", "usage: coeffs [preset NAME | set SEASON KEY VALUE "
                           "| load JSON]")
    console.app.config_changed()
    return "name=%s" % c.config["coeffs"].get("name", "?")


def _season_words(c, season):
    d = season_to_dict(c.model(1 if season == "cooling" else 2))
    return "%s/%s/%s/%s/%s" % (
        ",".join(fmt(x) for x in d["a"]), ",".join(fmt(x) for x in d["b"]), fmt(d["c"]),
        ",".join(fmt(d[k]) for k in ("t_lo", "t_hi", "t_ref")),
        ",".join(fmt(d[k]) for k in ("p_lo", "p_hi")))
