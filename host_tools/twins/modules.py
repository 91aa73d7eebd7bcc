# Put a twin board's modules where `import` finds them: machine, onewire, esp32,
# and a `time` on the board's clock. For host-side code that runs firmware
# modules against a twin (hwconfig.check); the virtual board installs its twin
# in vboot.py instead.
import sys

_NAMES = ("time", "machine", "onewire", "esp32")


class _Time:
    def __init__(self, clock):
        for name in ("ticks_us", "ticks_ms", "ticks_diff", "ticks_add", "sleep_ms", "sleep_us"):
            setattr(self, name, getattr(clock, name))


class installed:
    """with installed(m, fresh=("io_esp32",)): imports give board m's modules;
    the modules named in `fresh` are re-imported inside (they bind machine at
    import) and dropped again afterwards."""

    def __init__(self, m, fresh=()):
        self._mods = {"time": _Time(m.world.clock), "machine": m, "onewire": m.onewire,
                      "esp32": m.esp32}
        self._fresh = tuple(fresh)

    def __enter__(self):
        self._saved = {}
        for name in _NAMES + self._fresh:
            self._saved[name] = sys.modules.get(name)
        for name in self._fresh:
            sys.modules.pop(name, None)
        for name in _NAMES:
            mod = self._mods[name]
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod
        return self

    def __exit__(self, *exc):
        for name in self._saved:
            mod = self._saved[name]
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod
        return False
