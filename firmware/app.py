# The firmware application: wires the control core, the console, the config
# store and a hardware layer (HAL), and runs them on a fixed-rate loop. The
# HAL is the only thing that differs between a board and the virtual board.
import gc
import time

import safe_out
from console import Console
from core import alarms
from core.compat import unload
from core.controller import Controller
from core.loop import FixedRateLoop
from core.metering import CopMeter
from core.ticks import ticks_add, ticks_diff

VERSION = "0.1.0"
_SLICE_MS = 10  # console service interval; the control period is a multiple
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
        self._folder = folder
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
        self._hil = None  # the HilPort while a HIL session is on (hil.py is loaded only then)
        self._bms = getattr(hal, "bms", None)  # the BMS's Modbus slave (docs/bms.md), if any
        self.heap = HeapStats()
        self.meter = CopMeter()
        self.config_source = "defaults"  # store.SOURCE_DEFAULTS, until load_boot_config
        self.console = Console(self, hal.console_write, hal)
        self._ticks_per_step = 1
        self._slice = 0
        self._configure_timing()
        self._slice = self._ticks_per_step - 1  # the first slice runs a control tick

    # ---- configuration ------------------------------------------------
    # store.py (and boot_config.py) are loaded for a save, a load or the boot and
    # dropped after: the board's live heap has no room for code it runs so rarely.
    @property
    def store(self):
        from store import ConfigStore

        return ConfigStore(self._folder)

    def load_boot_config(self):
        """Apply the newest valid config on flash, else the backup, else keep defaults."""
        import boot_config

        try:
            self.config_source = boot_config.load(self)
        finally:
            unload("boot_config")
            unload("store")
        self._configure_timing()
        self._slice = self._ticks_per_step - 1

    def apply_stored(self, cfg):
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
        from core import learned  # the optimiser's, saved with the coefficients

        try:
            coeffs = learned.coeffs_to_save(self.controller)
        finally:
            unload("core.learned")  # gone before the store needs its room
        import store

        cfg = self.controller.config
        try:
            store.ConfigStore(self._folder).save(
                {"params": cfg["params"], "coeffs": coeffs, "pin": self.pin})
        except store.StoreError as exc:
            from console import ConsoleError

            raise ConsoleError("E_STORAGE", str(exc))
        finally:
            unload("store")
        self.controller.sticky_alarms &= ~alarms.CONFIG_FALLBACK

    def load_config(self):
        from console import ConsoleError

        flash = self.store
        try:
            cfg = flash.read(flash.current)
        finally:
            flash = None
            unload("store")
        if cfg is None:
            raise ConsoleError("E_STORAGE", "no valid saved config")
        self.apply_stored(cfg)
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
        """A break into the REPL (console.Console: two Ctrl-C, or mpremote's): the
        outputs safe first, then the running config kept for the next boot
        (console_extra.keep, applied by the next boot: boot_config.resumed), then
        the fail-safe (start()) hands over the REPL."""
        self.hal.safe()
        try:
            import console_extra

            console_extra.keep(self)
        except Exception:  # noqa: BLE001 -- MemoryError: the REPL all the same
            pass
        raise KeyboardInterrupt

    # ---- hardware in the loop ---------------------------------------------
    @property
    def hil(self):
        """The HIL session's port; when none is on, an idle one (mode off) that
        nothing keeps: hil.py is loaded for a session and dropped after it."""
        if self._hil is not None:
            return self._hil
        from hil import HilPort

        return HilPort()

    def hil_start(self, mode: int):
        if self.controller.config["params"]["hil"] != "allowed":
            from console import ConsoleError

            raise ConsoleError("E_STATE", "HIL is off in the config: set hil allowed first")
        hil = self.hil
        hil.timeout_ms = self.controller.config["params"]["hil_timeout_s"] * 1000
        now = self.loop.now()
        hil.start(mode, now)
        self._hil = hil
        self.controller.opt.hold()  # its windows were measured on the plant, not the host's
        self._tick_ms = now

    def hil_stop(self):
        if self._hil is not None:
            self._hil.stop()
            self._hil = None
            unload("hil")
            self.controller.opt.hold()  # HIL off: back on the plant, measure afresh
        self.loop.restart()  # back on the board's own clock, without counting overruns
        self._tick_ms = self.loop.now()

    def hil_step(self, dt_ms: int):
        """Lockstep: one control tick on injected measurements and simulated time
        (pin-level: on the drivers' readings after DT_MS of slices, hil.py)."""
        hil = self._hil
        if hil is None:  # the console asks for lockstep first
            raise ValueError("hil step needs a HIL session")
        now = self.loop.now()
        hil.streamed(now)  # the lockstep link is alive (hil_timeout_s)
        cmd = self._tick(now, hil.advance(dt_ms), hil)
        hil.settle()
        return cmd

    def _tick(self, now: int, step_ms: int, hil):
        """One control tick, the same in service and in HIL: the measurements from
        the drivers or from the HIL session (hil), the controller at step_ms (the
        board's clock; in lockstep the simulated one), the outputs, the latched
        alarms, metering and telemetry. `now`: the board's clock (watchdog health)."""
        controller = self.controller
        if hil is not None:
            hil.fill(controller.meas, now)
        else:
            self.hal.read(controller.meas)
        cmd = controller.step(step_ms)
        self.hal.write(cmd)
        self.latched_alarms |= cmd.alarms
        self._metering(controller.meas, cmd)
        self.console.tick(cmd.dt_ms)
        self._tick_ms = now
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
        hil = self._hil  # None, or a session in lockstep or real time
        lockstep = hil is not None and hil.lockstep
        if lockstep:
            self.hal.wait_input(2)
            now = self.loop.now()
        else:
            now = self.loop.wait()
        hal = self.hal
        hal.poll(now)
        bms = self._bms
        if bms is not None and bms.function:
            import bms as bms_map  # the register map, loaded when a BMS first asks

            bms_map.answer(self, bms)
        console = self.console
        console.service(hal, now)  # bounded input, one request at most; queued output
        self._count_uptime(now)
        if lockstep and hil is not None:
            if hil.expired(now):
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
            self._tick(now, now, hil)  # hil: real time, the host's streamed measurements
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
    # Ctrl-C is a byte for the console from here (console.py: one is noise, a
    # break takes two); the fail-safe turns the port's interrupt back on.
    safe_out.kbd_intr(-1)
