# The state of one twin board, shared by its machine-side objects (machine.Pin,
# UART, ...) and by its World (what a test or the plant controls from outside).
# Nothing in here is visible from the machine side except through the
# port's own API; see docs/machine-twins.md.
import sys

from .clock import VirtualClock

try:  # on MicroPython (the virtual board) a hard handler runs with the heap locked
    import micropython as _mp

    _HEAP_LOCK = (_mp.heap_lock, _mp.heap_unlock)
except (ImportError, AttributeError):
    _HEAP_LOCK = None

# MICROPY_SCHEDULER_DEPTH: ports/esp32/mpconfigport.h:70, ports/rp2/mpconfigport.h:127
SCHED_DEPTH = 8

MODE_IN = "in"
MODE_OUT = "out"
MODE_OD = "od"
MODE_ALT = "alt"  # taken by a peripheral (UART, SPI, PWM, ADC, DAC)


class BoardReset(BaseException):
    """Raised where machine.reset()/soft_reset() or a watchdog bite would end the
    program on a board (a BaseException, so `except Exception` does not catch it,
    as nothing catches a reset on a board). `cause` is the port's reset_cause()
    value after the reset."""

    # MicroPython exception instances take no attributes: the state is in args.
    @property
    def cause(self):
        return self.args[0]

    @property
    def soft(self):
        return len(self.args) > 1 and self.args[1] == "soft"


WRITES_KEPT = 256


class PinState:
    def __init__(self, pid):
        self.id = pid
        self.mode = None  # never configured: input, no pull (reset state)
        self.pull_up = False
        self.pull_down = False
        self.latch = 0  # output latch
        self.ext = None  # level driven from outside (None: nothing drives it)
        self.writes = []
        self.handler = None
        self.trigger = 0
        self.hard = False
        self.pin = None  # the Pin object handed to the handler
        self.pending = 0  # edges latched while IRQs are disabled
        self.bus = None  # a 1-Wire bus model attached to this pin
        self.watchers = []  # fn(level, now_us) for every level change (PCNT, SPI CS)

    def log_write(self, level):
        # The last WRITES_KEPT writes, for tests; bounded so that a long run of the
        # virtual board (a relay toggled every tick) does not grow the heap.
        w = self.writes
        w.append(level)
        if len(w) > 2 * WRITES_KEPT:
            del w[:WRITES_KEPT]


class Board:
    """One chip. `port` is a port module (esp32_machine or rp2_machine)."""

    def __init__(self, port, clock=None, cause=None, restore=None):
        self.port = port
        self.clock = clock if clock is not None else VirtualClock()
        self.float_level = 0  # what a floating input reads (unwired, no pull)
        self.pins = {}
        self.statics = {}  # objects the port keeps in static tables (common.static_object)
        self.sched = []
        self.sched_dropped = 0
        self.irq_state = 1  # machine.disable_irq() sets 0
        self.uarts = {}  # UART objects, by id (gone at soft reset)
        self.lines = {}  # UartLine, by id: the wire and its far end
        self.adc_volts = {}  # volts at each ADC pin (World.set_volts)
        self.adc_atten = {}  # ESP32: attenuation per ADC channel
        self.pwms = {}
        self.dacs = {}
        self.spis = {}
        self.spi_ends = {}
        self.wdt = None  # WdtState while the watchdog runs
        self.pcnt_units = {}
        self.cause = port.PWRON if cause is None else cause
        self.soft_reset_count = 0
        self.log = []  # messages a board prints by itself (IRQ handler errors)
        if restore:
            self.restore(restore)

    # ---- pins -----------------------------------------------------------
    def pin(self, pid):
        s = self.pins.get(pid)
        if s is None:
            s = PinState(pid)
            self.pins[pid] = s
        return s

    def level(self, pid):
        s = self.pin(pid)
        if s.mode == MODE_OUT:
            return s.latch
        if s.bus is not None:
            return s.bus.level(self, s)
        if s.mode == MODE_OD and s.latch == 0:
            return 0
        if s.ext is not None:
            return s.ext
        up, down = self.port.effective_pull(s)
        if up:
            return 1
        if down:
            return 0
        return self.float_level

    def change(self, pid, fn):
        """Apply fn(state) and raise the pin's IRQ if its level changed."""
        s = self.pin(pid)
        before = self.level(pid)
        fn(s)
        after = self.level(pid)
        if after != before:
            for fn in s.watchers:
                fn(after, self.clock.us)
            self.edge(s, after)

    def edge(self, s, level):
        flag = self.port.IRQ_RISING_FLAG if level else self.port.IRQ_FALLING_FLAG
        if s.handler is None or not (s.trigger & flag):
            return
        if not self.irq_state:
            s.pending |= flag  # the edge latches in the GPIO interrupt status
            return
        self.dispatch(s)

    def dispatch(self, s):
        if s.hard:
            # shared/runtime/mpirq.c:68-102: run now, scheduler and heap locked;
            # an uncaught exception is printed and the IRQ disabled (mpirq.c:112-118).
            try:
                _call_locked(s.handler, s.pin)
            except Exception as exc:  # noqa: BLE001 -- the port prints and disables it
                self.log.append("Uncaught exception in IRQ callback handler: %r" % (exc,))
                s.handler = None
                s.trigger = 0
        else:
            self.schedule(s.handler, s.pin)

    def schedule(self, fn, arg):
        # py/scheduler.c:163-181: a full queue refuses the item (it is lost).
        if len(self.sched) >= SCHED_DEPTH:
            self.sched_dropped += 1
            return False
        self.sched.append((fn, arg))
        return True

    def run_scheduled(self):
        n = 0
        while self.sched:
            fn, arg = self.sched.pop(0)
            n += 1
            try:
                fn(arg)
            except Exception as exc:  # noqa: BLE001 -- mp_call_function_1_protected prints it
                self.log.append("scheduled handler: %r" % (exc,))
        return n

    def enable_irq(self, state):
        self.irq_state = state
        if state:
            for s in self.pins.values():
                if s.pending:
                    s.pending = 0
                    if s.handler is not None:
                        self.dispatch(s)

    # ---- resets -----------------------------------------------------------
    def soft_reset_state(self):
        """What survives a soft reset: the running watchdog, the hardware reset cause."""
        w = self.wdt
        out = {"cause": self.cause, "soft_resets": self.soft_reset_count}
        if w is not None:
            out["wdt"] = {"timeout_ms": w.timeout_ms,
                          "left_us": w.timeout_ms * 1000 - (self.clock.us - w.fed_us)}
        return out

    def restore(self, state):
        self.cause = state.get("cause", self.cause)
        self.soft_reset_count = state.get("soft_resets", 0)
        w = state.get("wdt")
        if w:
            self.wdt = WdtState(w["timeout_ms"], self.clock)
            self.wdt.fed_us = self.clock.us - (w["timeout_ms"] * 1000 - w["left_us"])

    def _peripherals_off(self):
        for s in self.pins.values():
            s.handler = None
            s.trigger = 0
            s.pending = 0
        self.sched = []
        self.uarts = {}
        self.pwms = {}
        self.pcnt_units = {}

    def soft_reset(self):
        # ports/esp32/main.c:182-237 (machine_uart_deinit_all, machine_pins_deinit,
        # PWM deinit, machine_deinit); the WDT is not touched on either port.
        self._peripherals_off()
        self.soft_reset_count += 1
        self.cause = self.port.cause_after_soft_reset(self.cause)
        return self.cause

    def hard_reset(self, cause):
        """The chip restarts: every pin back to input, peripherals off, WDT off."""
        self._peripherals_off()
        for s in self.pins.values():
            s.mode = None
            s.pull_up = s.pull_down = False
            s.latch = 0
        self.dacs = {}
        self.wdt = None
        self.cause = cause
        self.soft_reset_count = 0

    def check_wdt(self):
        w = self.wdt
        if w is not None and w.expired():
            self.hard_reset(self.port.WDT_CAUSE)
            return True
        return False


def _call_locked(fn, arg):
    lock = _HEAP_LOCK
    if lock is None:
        fn(arg)
        return
    lock[0]()
    try:
        fn(arg)
    finally:
        lock[1]()


class WdtState:
    def __init__(self, timeout_ms, clock):
        self.timeout_ms = timeout_ms
        self.clock = clock
        self.fed_us = clock.us
        self.feeds = 0

    def feed(self):
        self.fed_us = self.clock.us
        self.feeds += 1

    def expired(self):
        return self.clock.us - self.fed_us > self.timeout_ms * 1000

    def left_ms(self):
        return (self.timeout_ms * 1000 - (self.clock.us - self.fed_us)) // 1000


def warn(text):
    sys.stderr.write(text + "\n")
