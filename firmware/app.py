# The firmware application: wires the control core, the console, the config
# store and a hardware layer (HAL), and runs them on a fixed-rate loop. The
# HAL is the only thing that differs between a board and the virtual board.
import gc
import time

from console import Console
from core import alarms
from core import config as config_mod
from core.controller import Controller
from core.loop import FixedRateLoop
from core.metering import CopMeter
from hil import LOCKSTEP, REALTIME, HilPort
from store import SOURCE_CURRENT, SOURCE_DEFAULTS, ConfigStore, StoreError

VERSION = "0.1.0"
_SLICE_MS = 10  # console service interval; the control period is a multiple
_BYTES_PER_SLICE = 64  # bounded console work per slice
# Collect between slices when less than this is free: it must cover the
# biggest single request (a `set` validates a whole config: about 28 KB of
# boxed floats and strings on MicroPython). Not much more: on a 110K heap the
# firmware keeps about 66K live, and a higher mark would collect every slice.
_LOW_WATER = 34 * 1024


class HeapStats:
    """What the collections between slices found: pause times and the live heap
    right after each (flat over a long run when nothing leaks)."""

    def __init__(self):
        self.collections = 0
        self.max_pause_us = 0
        self.live_first = 0
        self.live_last = 0
        self.live_max = 0

    def collected(self, pause_us: int, live: int):
        self.collections += 1
        if pause_us > self.max_pause_us:
            self.max_pause_us = pause_us
        if self.collections == 1:
            self.live_first = live
        self.live_last = live
        if live > self.live_max:
            self.live_max = live


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
        self._boot_ms = time.ticks_ms()
        self.controller = Controller()
        self.hil = HilPort()
        self.heap = HeapStats()
        self.meter = CopMeter()
        self.config_source = SOURCE_DEFAULTS
        self.console = Console(self, hal.console_write)
        self._ticks_per_step = 1
        self._slice = 0
        self.loop = FixedRateLoop(_SLICE_MS, time.ticks_ms, time.sleep_ms)
        self._configure_timing()
        self._slice = self._ticks_per_step - 1  # the first slice runs a control tick

    # ---- configuration ------------------------------------------------
    def load_boot_config(self):
        """Apply the newest valid config on flash, else the backup, else keep defaults."""
        self.config_source = self._load_boot_config()
        self._configure_timing()
        self._slice = self._ticks_per_step - 1

    def _load_boot_config(self) -> str:
        for i in range(3):
            source, cfg = self.store.candidate(i)
            if cfg is None:
                continue
            try:
                self._apply_stored(cfg)
            except (config_mod.ConfigError, ValueError, TypeError, KeyError):
                continue
            if source != SOURCE_CURRENT:
                self.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
            return source
        if self.store.files_present():
            self.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
        return SOURCE_DEFAULTS

    def _apply_stored(self, cfg):
        pin = cfg.get("pin", "") if isinstance(cfg, dict) else ""
        self.controller.apply_config({"params": cfg["params"], "coeffs": cfg["coeffs"]})
        self.pin = pin if isinstance(pin, str) else ""

    def config_changed(self):
        self._configure_timing()

    def _configure_timing(self):
        params = self.controller.config["params"]
        self._ticks_per_step = max(1, params["period_ms"] // _SLICE_MS)
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
        return time.ticks_diff(time.ticks_ms(), self._boot_ms) // 1000

    def overruns(self) -> int:
        return self.loop.overruns

    def request_reboot(self):
        self._reboot = True

    def interrupt(self):
        # A board raises KeyboardInterrupt to reach its REPL; the virtual board
        # enters its REPL in place instead (docs/micropython-host.md).
        self.hal.interrupt()

    # ---- the loop -------------------------------------------------------
    # ---- hardware in the loop ---------------------------------------------
    def hil_start(self, mode: int):
        if self.controller.config["params"]["hil"] != "allowed":
            from console import ConsoleError

            raise ConsoleError("E_STATE", "HIL is off in the config: set hil allowed first")
        self.hil.timeout_ms = self.controller.config["params"]["hil_timeout_s"] * 1000
        self.hil.start(mode, self.loop.now())

    def hil_stop(self):
        self.hil.stop()
        self.loop.restart()  # back on the board's own clock, without counting overruns

    def hil_step(self, dt_ms: int):
        """Lockstep: one control tick on injected measurements and simulated time."""
        controller = self.controller
        self.hil.fill(controller.meas, self.hil._fresh_ms)
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
        fast as the link carries them.
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
        if hil_mode == LOCKSTEP:
            if self._reboot:
                self.running = False
            return
        self._slice += 1
        if self._slice >= self._ticks_per_step:
            self._slice = 0
            controller = self.controller
            if self.loop.overruns:
                controller.sticky_alarms |= alarms.LOOP_OVERRUN
            if hil_mode == REALTIME:
                self.hil.fill(controller.meas, now)
            else:
                hal.read(controller.meas)
            cmd = controller.step(now)
            hal.write(cmd)
            self.latched_alarms |= cmd.alarms
            self._metering(controller.meas, cmd)
            console.tick(cmd.dt_ms)
        if self._reboot:
            self.running = False


def serve(app):
    # Kept tiny on purpose: collections happen here, and on the host
    # MicroPython every active frame must be small (docs/micropython-host.md).
    while app.running:
        app.slice()
        if gc.mem_free() < _LOW_WATER:
            t0 = time.ticks_us()
            gc.collect()
            app.heap.collected(time.ticks_diff(time.ticks_us(), t0), gc.mem_alloc())


def banner(app) -> str:
    return "!boot copflow=%s proto=1 board=%s config=%s alarms=%x\n" % (
        app.version, app.board_name, app.config_source, app.controller.sticky_alarms)


def start(app):
    """Announce the boot and run until a reboot is requested (main.py calls this)."""
    hal = app.hal
    if hal.watchdog_reset:
        app.controller.sticky_alarms |= alarms.WDT_RESET
    if hal.auto_gc:
        # On a board the collector may run whenever the heap runs short; only the
        # host MicroPython needs collections kept to the serve loop.
        gc.enable()
    hal.console_write(banner(app))
    if hal.boot_error:
        hal.console_write("!error %s\n" % hal.boot_error)
    serve(app)
    hal.console_write("!reboot\n")
    hal.reset()
