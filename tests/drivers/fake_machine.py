"""A fake of the parts of MicroPython's `machine` and `time` the drivers use, for
CPython unit tests: pin levels, ADC codes, IRQ callbacks, PWM/DAC outputs, UART
bytes, the watchdog, and a clock the test moves by hand.

Drivers take their machine objects and clock functions as arguments, so tests
build these fakes directly; `install()` also puts this module in sys.modules as
`machine` for code that imports it (the board HAL factory).
"""

from __future__ import annotations

import sys
import types
from collections import deque

_TICKS_MAX = (1 << 30) - 1
_TICKS_HALF = 1 << 29


class Clock:
    """Microsecond clock with MicroPython's wrapping tick semantics."""

    def __init__(self, start_us: int = 0):
        self.us = start_us

    def advance_ms(self, ms: float):
        self.us += int(ms * 1000)

    def advance_us(self, us: int):
        self.us += int(us)

    def ticks_us(self) -> int:
        return self.us & _TICKS_MAX

    def ticks_ms(self) -> int:
        return (self.us // 1000) & _TICKS_MAX

    @staticmethod
    def ticks_diff(end: int, start: int) -> int:
        return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF

    @staticmethod
    def ticks_add(ticks: int, delta: int) -> int:
        return (ticks + delta) & _TICKS_MAX

    def sleep_us(self, us: int):
        self.advance_us(us)

    def sleep_ms(self, ms: int):
        self.advance_ms(ms)


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self.level = 0 if value is None else int(bool(value))
        self.writes: list[int] = []  # every level written, in order
        self.irq_handler = None
        self.irq_trigger = 0

    def init(self, mode=-1, pull=-1, *, value=None):
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.value(value)

    def value(self, x=None):
        if x is None:
            return self.level
        self.level = int(bool(x))
        self.writes.append(self.level)
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __call__(self, x=None):
        return self.value(x)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        self.irq_handler = handler
        self.irq_trigger = trigger

    # ---- test side ----
    def set_input(self, level: int):
        """The outside world drives the pin; edges fire the IRQ handler."""
        level = int(bool(level))
        old, self.level = self.level, level
        if self.irq_handler is None or old == level:
            return
        if (level and self.irq_trigger & Pin.IRQ_RISING) or (
            not level and self.irq_trigger & Pin.IRQ_FALLING
        ):
            self.irq_handler(self)

    def pulse(self):
        self.set_input(1)
        self.set_input(0)


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.pin = pin
        self.atten = atten
        self.codes: deque[int] = deque()  # queued readings, consumed in order
        self.code = 0  # returned when the queue is empty

    def read_u16(self) -> int:
        if self.codes:
            self.code = self.codes.popleft()
        return self.code

    def set_volts(self, volts: float, vref: float = 3.3):
        self.code = max(0, min(65535, round(volts / vref * 65535)))


class PWM:
    def __init__(self, pin, freq: int = 1000, duty_u16: int = 0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        return None

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        if not 0 <= value <= 65535:
            raise ValueError("duty_u16 out of range")
        self._duty = int(value)
        return None

    def deinit(self):
        self._duty = 0


class DAC:
    def __init__(self, pin, bits: int = 8):
        self.pin = pin
        self.level = 0
        self.bits = bits

    def write(self, value: int):
        if not 0 <= value < (1 << self.bits):
            raise ValueError("DAC value out of range")
        self.level = int(value)


class UART:
    """Bytes out are collected; bytes in are queued by the test (or by a peer
    object with `respond(request) -> bytes`)."""

    def __init__(self, id, baudrate: int = 9600, **kwargs):
        self.id = id
        self.baudrate = baudrate
        self.kwargs = kwargs
        self.rx = bytearray()
        self.tx = bytearray()
        self.peer = None

    def init(self, baudrate: int = 9600, **kwargs):
        self.baudrate = baudrate
        self.kwargs = kwargs

    def write(self, data) -> int:
        data = bytes(data)
        self.tx += data
        if self.peer is not None:
            self.rx += self.peer.respond(data)
        return len(data)

    def any(self) -> int:
        return len(self.rx)

    def read(self, n: int = -1):
        if not self.rx:
            return None
        n = len(self.rx) if n is None or n < 0 else n
        out, self.rx = bytes(self.rx[:n]), self.rx[n:]
        return out

    def readinto(self, buf, n: int = -1):
        data = self.read(len(buf) if n < 0 else n)
        if not data:
            return None
        buf[: len(data)] = data
        return len(data)

    def flush(self):
        pass


class WDT:
    def __init__(self, id: int = 0, timeout: int = 5000):
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1


PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
_reset_cause = PWRON_RESET


def reset_cause() -> int:
    return _reset_cause


def unique_id() -> bytes:
    return b"\x01\x02\x03\x04"


def install(reset: int = PWRON_RESET) -> types.ModuleType:
    """Register this module as `machine` (undo with `uninstall`)."""
    global _reset_cause
    _reset_cause = reset
    module = sys.modules[__name__]
    sys.modules["machine"] = module
    return module


def uninstall():
    if sys.modules.get("machine") is sys.modules[__name__]:
        del sys.modules["machine"]
