# The firmware application: wires the control core, the console, the config
# store and a hardware layer (HAL), and runs them on a fixed-rate loop. The
# HAL is the only thing that differs between a board and the virtual board.
import gc
import time

import safe_out
from console import Console
from core import alarms
from core import config as config_mod
from core.controller import Controller
from core.loop import FixedRateLoop
from core.metering import CopMeter
from core.ticks import ticks_add, ticks_diff
from hil import LOCKSTEP, REALTIME, HilPort
from store import SOURCE_CURRENT, SOURCE_DEFAULTS, ConfigStore, StoreError

VERSION = "0.1.0"
_SLICE_MS = 10  # console service interval; the control period is a multiple
_BYTES_PER_SLICE = 64  # bounded console work per slice
# Collections between slices (app.serve). Port-correct trigger: the bytes
# allocated since the last collection, from gc.mem_alloc(), which counts the
# same thing on every port. gc.mem_free() does not: on ESP32 it adds the
# largest block the GC heap could still take from ESP-IDF (py/modgc.c), so a
# low-water mark on it almost never triggers there. With automatic collection
# (a board) this keeps most collections between slices and the heap from
# growing; with manual collection (the host MicroPython, whose heap does not
# grow) the low-water mark on mem_free() is exact and is kept too: it must
# cover the biggest single request (a `set` validates a whole config: about
# 28 KB of boxed floats and strings).
_GARBAGE = 16 * 1024
_LOW_WATER = 34 * 1024


class HeapStats:
    """What the collections between slices found: pause times and the live heap
    right after each (flat over a long run when nothing leaks); `limit` is the
    allocation at which serve collects next (the live heap plus _GARBAGE)."""

    def __init__(self):
        self.collections = 0
        self.max_pause_us = 0
        self.live_first = 0
        self.live_last = 0
        self.live_max = 0
        self.limit = 0
        self.manual = False  # collections only in serve (automatic GC was off at start)

    def collected(self, pause_us: int, live: int):
        self.collections += 1
        if pause_us > self.max_pause_us:
            self.max_pause_us = pause_us
        if self.collections == 1:
            self.live_first = live
        self.live_last = live
        if live > self.live_max:
            self.live_max = live
        self.limit = live + _GARBAGE


class App:
    def __init__(self, hal, folder: str = ""):
        self.hal = hal
        self.version = VERSION
        self.board_name = hal.board_name
        self.store = ConfigStore(folder)
        self.latched_alarms = 0
        self.pin = ""
        self.running = True
        self._reboot = False
        self.loop = FixedRateLoop(_SLICE_MS, time.ticks_ms, time.sleep_ms)
        # Uptime is accumulated in whole seconds: ticks_ms wraps (every 2^30 ms
        # on the ports) and a difference of ticks is only valid up to half that.
        self._up_s = 0
        self._up_ms = self.loop.now()
        self._tick_ms = self._up_ms  # the last control tick or HIL step (watchdog health)
        self.controller = Controller()
        self.hil = HilPort()
        self.heap = HeapStats()
        self.meter = CopMeter()
        self.config_source = SOURCE_DEFAULTS
        self.console = Console(self, hal.console_write)
        self._ticks_per_step = 1
        self._slice = 0
        self._configure_timing()
        self._slice = self._ticks_per_step - 1  # the first slice runs a control tick

    # ---- configuration ------------------------------------------------
    def load_boot_config(self):
        """Apply the newest valid config on flash, else the backup, else keep defaults."""
        self.config_source = self._load_boot_config()
        self._configure_timing()
        self._slice = self._ticks_per_step - 1

    def _load_boot_config(self) -> str:
        # Nothing escapes from here: a copy that cannot be read, decoded, parsed
        # or validated is skipped (the store's read() never raises), and a
        # recovery the flash refuses leaves the copies to be tried as they are.
        try:
            self.store.recover(self._valid_stored)  # a save a cut interrupted: finished or dropped
        except Exception:
            pass
        for i in range(3):
            source, cfg = self.store.candidate(i)
            if cfg is None:
                continue
            try:
                self._apply_stored(cfg)
            except Exception:  # ConfigError, wrong types or shapes, memory: the next copy
                continue
            if source != SOURCE_CURRENT:
                self.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
            return source
        if self.store.files_present():
            self.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
        return SOURCE_DEFAULTS

    def _valid_stored(self, cfg) -> bool:
        try:
            config_mod.validate({"params": cfg["params"], "coeffs": cfg["coeffs"]})
        except Exception:
            return False
        return True

    def _apply_stored(self, cfg):
        pin = cfg.get("pin", "") if isinstance(cfg, dict) else ""
        self.controller.apply_config({"params": cfg["params"], "coeffs": cfg["coeffs"]})
        self.pin = pin if isinstance(pin, str) else ""

    def config_changed(self):
        self._configure_timing()

    def _configure_timing(self):
        params = self.controller.config["params"]
        self._ticks_per_step = max(1, params["period_ms"] // _SLICE_MS)
        # A control tick (or, in lockstep, a `hil step`) is overdue after two
        # periods and a second of slack: the watchdog goes hungry from then on.
        self._health_ms = 2 * params["period_ms"] + 1000
        if params["cop_window_s"] * 1000 != self.meter.window_ms:
            self.meter.configure(params["cop_window_s"])

    def save_config(self):
        cfg = self.controller.config
        try:
            self.store.save({"params": cfg["params"], "coeffs": cfg["coeffs"], "pin": self.pin})
        except StoreError as exc:
            from console import ConsoleError

            raise ConsoleError("E_STORAGE", str(exc))
        self.controller.sticky_alarms &= ~alarms.CONFIG_FALLBACK

    def load_config(self):
        from console import ConsoleError

        cfg = self.store.read(self.store.current)
        if cfg is None:
            raise ConsoleError("E_STORAGE", "no valid saved config")
        self._apply_stored(cfg)
        self._configure_timing()

    # ---- status ---------------------------------------------------------
    def now_ms(self) -> int:
        return self.loop.now()

    def uptime_s(self) -> int:
        d = ticks_diff(self.loop.now(), self._up_ms)
        return self._up_s + (d // 1000 if d > 0 else 0)

    def _count_uptime(self, now: int):
        d = ticks_diff(now, self._up_ms)
        if d >= 1000:
            s = d // 1000
            self._up_s += s
            self._up_ms = ticks_add(self._up_ms, s * 1000)

    def overruns(self) -> int:
        return self.loop.overruns

    def skipped(self) -> int:
        return self.loop.skipped

    def request_reboot(self):
        self._reboot = True

    def interrupt(self):
        # Ctrl-C read as a byte (the host MicroPython's console: a board's port
        # raises KeyboardInterrupt itself, wherever the code is). Either way it
        # leaves the loop through the fail-safe (start()).
        raise KeyboardInterrupt

    # ---- the loop -------------------------------------------------------
    # ---- hardware in the loop ---------------------------------------------
    def hil_start(self, mode: int):
        if self.controller.config["params"]["hil"] != "allowed":
            from console import ConsoleError

            raise ConsoleError("E_STATE", "HIL is off in the config: set hil allowed first")
        self.hil.timeout_ms = self.controller.config["params"]["hil_timeout_s"] * 1000
        now = self.loop.now()
        self.hil.start(mode, now)
        self._tick_ms = now

    def hil_stop(self):
        self.hil.stop()
        self.loop.restart()  # back on the board's own clock, without counting overruns
        self._tick_ms = self.loop.now()

    def hil_step(self, dt_ms: int):
        """Lockstep: one control tick on injected measurements and simulated time."""
        controller = self.controller
        now = self.loop.now()
        self._tick_ms = now
        self.hil.streamed(now)  # the lockstep link is alive (hil_timeout_s)
        self.hil.fill(controller.meas, now)
        cmd = controller.step(self.hil.advance(dt_ms))
        self.hal.write(cmd)
        self.latched_alarms |= cmd.alarms
        self._metering(controller.meas, cmd)
        return cmd

    def _metering(self, meas, cmd):
        self.meter.update(cmd.dt_ms, cmd.season, meas.flow_m3h, meas.t_in_c, meas.t_out_c,
                          meas.p_unit_w, meas.p_pump_w)

    def slice(self):
        """One 10 ms slice: console input, and a control tick when one is due.

        In lockstep HIL the host's `hil step` requests are the ticks, and the
        slice only waits briefly for the next request, so the board steps as
        fast as the link carries them; if none comes for hil_timeout_s the
        board leaves lockstep for its own clock and drivers.

        The watchdog is fed at the end of a slice only while the control loop
        is healthy: a control tick (or a HIL step) ran recently.
        """
        hil_mode = self.hil.mode
        if hil_mode == LOCKSTEP:
            self.hal.wait_input(2)
            now = self.loop.now()
        else:
            now = self.loop.wait()
        hal = self.hal
        hal.poll(now)
        console = self.console
        for _ in range(_BYTES_PER_SLICE):
            byte = hal.console_read()
            if byte < 0:
                break
            if console.feed(byte):
                break  # one request per slice: a collection may run before the next
        self._count_uptime(now)
        if hil_mode == LOCKSTEP:
            if self.hil.expired(now):
                self.hil_stop()
                hal.console_write("!hil off reason=timeout\n")
            elif ticks_diff(now, self._tick_ms) <= self._health_ms:
                hal.feed()  # steps are arriving (a quiet host also ends lockstep above)
            if self._reboot:
                self.running = False
            return
        self._slice += 1
        if self._slice >= self._ticks_per_step:
            self._slice = 0
            controller = self.controller
            # Single overruns are counted (status: overruns, skipped); the alarm
            # stands only while the loop is overloaded, so `ack` clears it after.
            if self.loop.overloaded:
                controller.sticky_alarms |= alarms.LOOP_OVERRUN
            else:
                controller.sticky_alarms &= ~alarms.LOOP_OVERRUN
            if hil_mode == REALTIME:
                self.hil.fill(controller.meas, now)
            else:
                hal.read(controller.meas)
            cmd = controller.step(now)
            hal.write(cmd)
            self.latched_alarms |= cmd.alarms
            self._metering(controller.meas, cmd)
            console.tick(cmd.dt_ms)
            self._tick_ms = now
        if ticks_diff(now, self._tick_ms) <= self._health_ms:
            hal.feed()
        if self._reboot:
            self.running = False


def serve(app):
    # Kept tiny on purpose: collections happen here, and on the host
    # MicroPython every active frame must be small (docs/micropython-host.md).
    heap = app.heap
    while app.running:
        app.slice()
        if gc.mem_alloc() > heap.limit or heap.manual and gc.mem_free() < _LOW_WATER:
            collect(heap)


def collect(heap):
    t0 = time.ticks_us()
    gc.collect()
    heap.collected(time.ticks_diff(time.ticks_us(), t0), gc.mem_alloc())


def banner(app) -> str:
    return "!boot copflow=%s proto=1 board=%s config=%s alarms=%x\n" % (
        app.version, app.board_name, app.config_source, app.controller.sticky_alarms)


def start(app):
    """Announce the boot and run the loop (board.boot calls this). Every way out
    of the loop -- a requested reboot, an error, MemoryError, Ctrl-C -- goes
    through the one fail-safe (safe_out.fail): outputs safe, then a reboot or the
    REPL. This frame stays tiny: it is active through every collection."""
    _begin(app)
    with safe_out.Guard(app.hal):  # an error, MemoryError, Ctrl-C; or a reboot
        serve(app)


def _begin(app):
    hal = app.hal
    if hal.watchdog_reset:
        app.controller.sticky_alarms |= alarms.WDT_RESET
    # Automatic collection stays as the port has it: on a board it runs when the
    # heap runs short. The host entry points switch it off before the firmware
    # starts (docs/micropython-host.md); then collections happen only in serve.
    heap = app.heap
    heap.manual = not gc.isenabled()
    collect(heap)
    hal.console_write(banner(app))
    if hal.boot_error:
        hal.console_write("!error %s\n" % hal.boot_error)
    # The watchdog starts with the loop, not at boot: a boot that fails (a
    # MemoryError on a small heap) stops at the REPL instead of reset-looping.
    hal.start_watchdog()
