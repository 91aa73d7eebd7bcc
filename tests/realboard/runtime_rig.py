"""A board on its port's machine twin, for the runtime tests (tests/realboard/test_runtime_*):
the firmware's real-board path (BoardHal on MachineIO) with the twin's clock as `time`,
the console as a byte queue, and the board's files (/safe.json, /reboot, the config
store) in a temporary folder. The app runs slice by slice, as serve() would run it."""

import builtins
import os
import runpy
import shutil
import types
from pathlib import Path

import app as app_mod
import hal_board
import hw
import stdio_console
from core import alarms
from host_tools import hwconfig
from host_tools.twins import make_machine
from host_tools.twins.heap import EspHeap
from host_tools.twins.modules import installed

PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}
FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
# What the firmware keeps at the root of a board's flash (absolute paths there).
FLASH_NAMES = ("boards", "board.json", "hw.json", "safe.json", "maint", "reboot")


def time_module(clock):
    t = types.ModuleType("time")
    for name in ("ticks_us", "ticks_ms", "ticks_diff", "ticks_add", "sleep_ms", "sleep_us"):
        setattr(t, name, getattr(clock, name))
    return t


# The port's GC heap (host_tools/twins/heap.py): ESP32_GENERIC starts at 56 KB and
# can grow into what ESP-IDF has left (here 96 KB: the 112 KB stock heap plus what
# IDF keeps free); the Pico's heap is fixed. The app's live set is allocated first.
HEAPS = {"esp32": (152 * 1024, 56 * 1024), "rp2": (192 * 1024, 192 * 1024)}
LIVE = 64 * 1024


def board_heap(port, live=LIVE):
    total, initial = HEAPS[port]
    heap = EspHeap(total, initial)
    for _ in range(live // 1024):
        heap.alloc(1024)  # a boot allocates in small pieces
    return heap


class Rig:
    def __init__(self, monkeypatch, tmp_path, port="esp32", machine=None):
        self.mp = monkeypatch
        self.tmp = tmp_path
        self.port = port
        self.m = machine if machine is not None else make_machine(port)
        self.w = self.m.world
        self.clock = self.w.clock
        self.profile = hwconfig.load_profile(PROFILE[port])
        self.inbuf = bytearray()
        self.out = []
        self.gc = board_heap(port)
        monkeypatch.chdir(tmp_path)  # the config store's files
        try:
            import safe_out
        except ImportError:  # the firmware before issue 11
            safe_out = None
        if safe_out is not None:
            monkeypatch.setattr(safe_out, "SAFE_FILE", str(tmp_path / "safe.json"))
            monkeypatch.setattr(safe_out, "REBOOT_FILE", str(tmp_path / "reboot"))
        monkeypatch.setattr(app_mod, "time", time_module(self.clock))
        monkeypatch.setattr(app_mod, "gc", self.gc)
        rig = self
        monkeypatch.setattr(stdio_console.StdioConsole, "__init__", lambda self: None)
        monkeypatch.setattr(stdio_console.StdioConsole, "console_read",
                            lambda self: rig._read())
        monkeypatch.setattr(stdio_console.StdioConsole, "console_write",
                            lambda self, text: rig.out.append(text))
        monkeypatch.setattr(stdio_console.StdioConsole, "wait_input",
                            lambda self, ms: rig._wait(ms))
        # A host that reads everything at once: no output queue (stdio_console's own
        # tests cover it).
        for name, fn in (("console_ready", lambda self: bool(rig.inbuf)),
                         ("console_room", lambda self: 1 << 16),
                         ("console_flush", lambda self: None),
                         ("console_drain", lambda self: None)):
            if hasattr(stdio_console.StdioConsole, name):
                monkeypatch.setattr(stdio_console.StdioConsole, name, fn)

    # ---- the board's flash, for main.py ----------------------------------------
    def flash(self, hw_config=None):
        """A flash folder with /board.json and the profiles as deploy leaves them;
        the firmware's absolute paths to its root files are redirected there."""
        import json

        root = self.tmp / "flash"
        (root / "boards").mkdir(parents=True, exist_ok=True)
        for src in (FIRMWARE / "boards").glob("*.json"):
            shutil.copy(src, root / "boards" / src.name)
        (root / "board.json").write_text(json.dumps({"board": self.port,
                                                     "profile": self.profile["name"]}))
        if hw_config is not None:
            (root / "hw.json").write_text(json.dumps(hw_config))

        def mapped(path):
            if isinstance(path, str) and path.startswith("/"):
                if path == "/":
                    return str(root)
                if path[1:].split("/")[0] in FLASH_NAMES:
                    return str(root) + path
            return path

        real_open, real_listdir = builtins.open, os.listdir
        real_remove, real_stat = os.remove, os.stat
        self.mp.setattr(builtins, "open", lambda p, *a, **k: real_open(mapped(p), *a, **k))
        self.mp.setattr(os, "listdir", lambda p=".": real_listdir(mapped(p)))
        self.mp.setattr(os, "remove", lambda p: real_remove(mapped(p)))
        self.mp.setattr(os, "stat", lambda p, *a, **k: real_stat(mapped(p), *a, **k))
        try:
            import safe_out
        except ImportError:
            return root
        self.mp.setattr(safe_out, "SAFE_FILE", "/safe.json")
        self.mp.setattr(safe_out, "REBOOT_FILE", "/reboot")
        return root

    def run_main(self):
        """The board runs main.py (its modules on the twin)."""
        with installed(self.m, fresh=("io_esp32",)):
            runpy.run_path(str(FIRMWARE / "main.py"), run_name="main")

    # ---- the console ------------------------------------------------------
    def _read(self):
        if not self.inbuf:
            return -1
        return self.inbuf.pop(0)

    def _wait(self, ms):
        if not self.inbuf:
            self.clock.advance_ms(ms)

    def text(self):
        return "".join(self.out)

    def lines(self):
        return self.text().splitlines()

    # ---- building a board ---------------------------------------------------
    def plan(self, hw_config=None):
        return hw.plan(self.profile["default_hw"] if hw_config is None else hw_config,
                       self.profile)

    def io(self):
        with installed(self.m, fresh=("io_esp32",)):
            return hal_board.MachineIO(self.m, self.port)

    def hal(self, hw_config=None):
        with installed(self.m, fresh=("io_esp32",)):
            return hal_board.BoardHal(self.plan(hw_config), hal_board.MachineIO(self.m, self.port),
                                      self.profile["name"])

    def build(self, hw_config=None, hal=None):
        """The App as board.boot() builds it, not started."""
        self.app = app_mod.App(hal if hal is not None else self.hal(hw_config))
        self.app.load_boot_config()
        return self.app

    def boot(self, hw_config=None, hal=None):
        """App built and started as board.boot() does, up to the loop (which the
        test then runs slice by slice)."""
        app = self.build(hw_config, hal)
        begin = getattr(app_mod, "_begin", None)
        if begin is not None:
            begin(app)
        else:  # the firmware before issue 11 (to see a test fail there)
            if app.hal.watchdog_reset:
                app.controller.sticky_alarms |= alarms.WDT_RESET
            app.hal.console_write(app_mod.banner(app))
        return app

    def snapshot_at_reset(self, pins=(), dacs=()):
        """Record the given outputs at the moment the firmware calls machine.reset()
        (the twin then resets every pin); the list fills once per reset."""
        seen = []
        reset = self.m.reset
        w = self.w

        def recording_reset():
            seen.append({"pins": {p: w.level(p) for p in pins},
                         "dacs": {p: getattr(w.dac(p), "value", None) for p in dacs}})
            reset()

        self.m.reset = recording_reset
        return seen

    # ---- running ------------------------------------------------------------
    def slices(self, n):
        for _ in range(n):
            self.app.slice()

    def run_ms(self, ms):
        end = self.clock.us + ms * 1000
        while self.clock.us < end:
            self.app.slice()

    def send(self, line, max_slices=50):
        """A request; its answer line (ok ... / err ...)."""
        before = len(self.lines())
        self.inbuf += line.encode() + b"\n"
        for _ in range(max_slices):
            self.app.slice()
            new = [x for x in self.lines()[before:] if x.startswith(("ok", "err"))]
            if new:
                return new[0]
        raise AssertionError(f"no answer to {line!r}; board said {self.lines()[before:]!r}")

    def fields(self, line):
        return dict(w.split("=", 1) for w in self.send(line).split()[1:] if "=" in w)
