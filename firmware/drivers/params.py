# Driver parameters are validated like the controller's: each driver module has
# a PARAMS table of (name, unit, low, high, default, help) entries, and a
# hardware config section is checked against it as a whole before a driver is
# built, so a typo or an out-of-range value is a clear boot error naming it.
from core.config import ConfigError, check_value


def validate(table, given, section: str) -> dict:
    """A complete, normalised copy of `given` (defaults filled in), or ConfigError
    whose key is "section.name"."""
    if not isinstance(given, dict):
        raise ConfigError(section, "expected an object of name: value")
    out = {}
    for entry in table:
        out[entry[0]] = entry[4]
    for name in given:
        entry = None
        for candidate in table:
            if candidate[0] == name:
                entry = candidate
                break
        if entry is None:
            raise ConfigError("%s.%s" % (section, name), "unknown parameter", "E_UNKNOWN")
        try:
            out[name] = check_value(entry, given[name])
        except ConfigError as exc:
            raise ConfigError("%s.%s" % (section, name), str(exc)[len(name) + 2:], exc.code)
    return out
