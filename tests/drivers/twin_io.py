"""Test-side helpers over the machine twins (host_tools.twins): the outside of a
board as a driver test sees it. Nothing here models a port; everything goes
through the twin's own API (machine side) or its world (outside)."""

import pytest

import hal_board
from host_tools.twins.modules import installed

# Firmware modules that bind board modules (machine, esp32) at import: imported
# afresh for each board.
_BINDS_AT_IMPORT = ("io_esp32",)

# Peripherals only some ports have, with where the port defines them (v1.27).
ONLY_ON = {
    "hard_irq": ("rp2", "ESP32 pin IRQs are soft only: Pin.irq takes handler/trigger/wake, no "
                        "hard= (ports/esp32/machine_pin.c); hw.plan refuses the pin-IRQ "
                        "drivers there and the PCNT counts instead"),
    "dac": ("esp32", "machine.DAC exists only on the ESP32 port (ports/esp32/machine_dac.c; "
                     "the RP2040 has no DAC)"),
    "pcnt": ("esp32", "esp32.PCNT is the ESP32 pulse-counter peripheral (ports/esp32/"
                      "esp32_pcnt.c); the RP2 port has no pulse counter"),
}


def needs(port: str, peripheral: str):
    """Skip the calling test on a port that lacks `peripheral`, saying why."""
    owner, why = ONLY_ON[peripheral]
    if port != owner:
        pytest.skip(f"{port}: {why}")


# The board profile each port's tests use (firmware/boards/*.json).
PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}


def profile(port):
    from host_tools import hwconfig

    return hwconfig.load_profile(PROFILE[port])


def profile_pin(port, role):
    """The GPIO the port's board profile wires `role` to (e.g. "valve_3point.open")."""
    return profile(port)["pins"][role]


FULL = 65535


class BoardIO:
    """hal_board.MachineIO over twin board m, exactly as board.py builds it; each
    call runs with the board's modules importable (MachineIO imports time,
    onewire, io_esp32 -> esp32 and machine lazily, as on the board)."""

    def __init__(self, m):
        self._m = m
        with installed(m, fresh=_BINDS_AT_IMPORT):
            self._io = hal_board.MachineIO(m, m.port)

    def __getattr__(self, name):
        attr = getattr(self._io, name)
        if not callable(attr):
            return attr
        m = self._m

        def call(*pos, **kw):
            with installed(m, fresh=_BINDS_AT_IMPORT):
                return attr(*pos, **kw)

        return call


def machine_io(m):
    """hal_board.MachineIO over the twin (see BoardIO)."""
    return BoardIO(m)


def make_adc(m, pin):
    """An ADC as the board HAL builds it on the port (hal_board.MachineIO.adc)."""
    return machine_io(m).adc(pin)


class AdcInput:
    """An analog input of a twin board set by the read_u16 code the port's ADC
    gives for it: the voltage is found by bisection through the twin's ADC
    itself (so the port's resolution and transfer curve decide which codes
    exist), and only codes the port can give are ever used."""

    _edges = {}  # (port, code) -> (lo, hi) volts: lo reads below code, hi at least code

    def __init__(self, m, pin=None):
        self.m = m
        self.w = m.world
        self.pin = profile_pin(m.port, "ntc.adc") if pin is None else pin
        self.adc = make_adc(m, self.pin)
        self.code = None

    def _read(self, volts):
        self.w.set_volts(self.pin, volts)
        return self.adc.read_u16()

    def _edge(self, code):
        """(lo, hi): volts just below and at the lowest voltage that reads at
        least `code`; lo is None when 0 V already does, hi None when no
        voltage up to 5 V does."""
        key = (self.m.port, code)
        if key not in self._edges:
            lo, hi = 0.0, 5.0
            if self._read(lo) >= code:
                edge = (None, lo)
            elif self._read(hi) < code:
                edge = (hi, None)
            else:
                for _ in range(60):
                    mid = (lo + hi) / 2
                    if mid in (lo, hi):
                        break
                    if self._read(mid) >= code:
                        hi = mid
                    else:
                        lo = mid
                edge = (lo, hi)
            self._edges[key] = edge
        return self._edges[key]

    def at_least(self, code):
        """The smallest code the port gives that is >= code (None: none)."""
        hi = self._edge(code)[1]
        return None if hi is None else self._read(hi)

    def at_most(self, code):
        """The largest code the port gives that is <= code (None: none)."""
        lo = self._edge(code + 1)[0]
        return None if lo is None else self._read(lo)

    def nearest(self, code):
        """The code the port gives that is nearest `code`."""
        code = max(0, min(FULL, int(round(code))))
        up, down = self.at_least(code), self.at_most(code)
        if up is None:
            return down
        if down is None:
            return up
        return down if code - down <= up - code else up

    def above(self, code):
        """The next code the port gives above `code` (None: none)."""
        return self.at_least(code + 1)

    def below(self, code):
        """The next code the port gives below `code` (None: none)."""
        return self.at_most(code - 1)

    def window(self):
        """(lowest, highest) code the port reads as a measurement: the codes
        between its rails (0 and 65535), where a reading of the pin stands for
        its voltage. Beyond them the port (or the HAL's ADC wrapper) reads a rail."""
        return self.above(0), self.below(FULL)

    def in_window(self, code):
        lo, hi = self.window()
        return lo is not None and hi is not None and lo <= code <= hi

    def step(self, code):
        """The larger distance from `code` (one the port gives) to its
        neighbours: the port's resolution there (None at either end)."""
        lo, hi = self.below(code), self.above(code)
        if lo is None or hi is None:
            return None
        return max(code - lo, hi - code)

    def set_volts(self, volts):
        """Put the input at `volts` (e.g. a rail); returns the code the port reads."""
        self.code = self._read(volts)
        return self.code

    def set_code(self, code):
        """Put the input in the middle of the voltage span the port reads as the
        code nearest `code`; returns that code."""
        got = self.nearest(code)
        lo = self._edge(got)[1]
        nxt = self._edge(got + 1)[0]
        v = (lo + nxt) / 2 if nxt is not None else lo + 0.01
        got2 = self._read(v)
        assert got2 == got, (code, got, got2, v)
        self.code = got
        return got


# ---- outputs as the outside sees them -------------------------------------------------
def pwm_duty(w, pin):
    """The duty_u16 the port's PWM hardware produces on `pin` (after its quantisation)."""
    return w.pwm(pin).duty_u16


def pwm_freq(w, pin):
    return w.pwm(pin).freq


def dac_level(w, pin):
    """The 8-bit value an ESP32 DAC pin puts out."""
    return w.dac(pin).value
