"""A register-level model of a MAX31865 RTD-to-digital converter, for the driver
tests: it sits on a twin board's SPI bus behind its active-low chip-select pin
(`world.spi(id).attach(chip, cs=pin)`: select/deselect at the CS edges, one
exchange per byte clocked while CS is low).

What it models (Maxim MAX31865 datasheet): eight registers with burst
auto-increment (reads from 0x0n, writes to 0x8n, 0x01/0x02/0x07 read-only,
invalid addresses read 0xFF); a transaction runs from CS falling to CS rising,
the address byte first; a 1-shot conversion starts when CS rises after the
config write that sets D5, takes 62.5 ms (50 Hz filter) or 52 ms (60 Hz),
and D5 self-clears when it is done; the RTD registers change only then; the
high/low thresholds (POR 0xFFFF / 0x0000) set status D7/D6 (>= high, <= low);
the manual fault-detection cycle (D3:D2 = 10 then 11) sets D5 in its first
half and D4/D3 in its second; D2 (over/undervoltage) latches continuously;
D1 clears the status. Power-on values come back with `power_cycle()`.

Time is `now_ms`: the board's clock when the chip is given one (`clock`), else a
float the test moves.
Anything the driver does that the datasheet forbids or that would give a
wrong reading is appended to `violations` instead of raising, so a test can
show the whole list when it fails.
"""

from __future__ import annotations

POR = (0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00)
WRITABLE = (0, 3, 4, 5, 6)

VBIAS = 0x80
AUTO = 0x40
ONESHOT = 0x20
WIRE3 = 0x10
FD_MASK = 0x0C
FAULT_CLEAR = 0x02
FILTER_50 = 0x01

F_RTD_HIGH = 0x80
F_RTD_LOW = 0x40
F_REFIN_HIGH = 0x20
F_REFIN_LOW = 0x10
F_RTDIN_LOW = 0x08
F_OVUV = 0x04


class FakeMAX31865:
    def __init__(self, r_ref: float = 430.0, resistance_ohm: float = 100.0,
                 tau_ms: float = 0.9, clock=None):
        self.r_ref = r_ref
        self.resistance_ohm = resistance_ohm  # float("inf") for an open RTD
        self.code = None  # if set: the 15-bit ratio the next conversions give
        # Input filter time constant: 10.5 tau of bias before a 1-shot, 5 tau
        # before each half of the fault cycle (datasheet, D7 and D3:D2).
        self.tau_ms = tau_ms
        self.fault_cycle_bits = 0  # D5/D4/D3: what the next fault cycles find
        self.overvoltage = False  # D2 condition present
        self.present = True  # False: nothing drives MISO
        self.miso_idle = 0xFF  # what MISO reads as with no chip
        self.extra_conv_ms = 0.0  # a chip slower than the datasheet says
        self.clock = clock  # the board's clock (its `us`), or None: now_ms is set by hand
        self._now_ms = 0.0
        self.spi_end = None  # the bus it is attached to (for the SPI mode), if any
        self.log: list[bytes] = []  # MOSI bytes of every transaction, in order
        self.violations: list[str] = []
        self.conversions = 0
        self.fault_cycles = 0
        self.early_rtd_reads = 0  # RTD register bytes read while a conversion ran
        self.bias_ms = 0.0  # total time VBIAS was on (closed intervals)
        self.power_cycle()
        self._selected = False
        self._tx = bytearray()

    def power_cycle(self):
        self.regs = bytearray(POR)
        self._bias_since = None
        self._settled_since = 0.0
        self._switch_open_at = None
        self._conv_end = None

    @property
    def now_ms(self) -> float:
        return self.clock.us / 1000.0 if self.clock is not None else self._now_ms

    @now_ms.setter
    def now_ms(self, value: float):
        self._now_ms = value

    # ---- bus side ----

    def select(self):
        self._update()
        self._selected = True
        self._tx = bytearray()
        self._ptr = None
        self._write = False
        self._cfg_written = None

    def deselect(self):
        if not self._selected:
            return
        self._selected = False
        self.log.append(bytes(self._tx))
        if self._cfg_written is not None and self.present:
            self._config(self._cfg_written)

    def exchange(self, byte: int) -> int:
        if not self._selected:
            self.violations.append("SPI transfer with CS high")
            return self.miso_idle
        phase = getattr(self.spi_end, "phase", 1)
        if phase != 1:
            self.violations.append(f"SPI phase {phase}: the MAX31865 needs CPHA = 1")
        self._tx.append(byte)
        if not self.present:
            return self.miso_idle
        if self._ptr is None:
            self._ptr = byte & 0x7F
            self._write = bool(byte & 0x80)
            return 0xFF
        ptr = self._ptr
        self._ptr = (ptr + 1) & 0x7F
        if self._write:
            if ptr == 0:
                self._cfg_written = byte
            elif ptr in WRITABLE:
                self.regs[ptr] = byte
            return 0xFF
        return self._read(ptr)

    def _read(self, ptr: int) -> int:
        if ptr > 7:
            return 0xFF
        self._update()
        if ptr in (1, 2) and self._conv_end is not None:
            self.early_rtd_reads += 1
        return self.regs[ptr]

    # ---- the converter ----

    @property
    def bias(self) -> bool:
        return bool(self.regs[0] & VBIAS)

    def _update(self):
        if self.overvoltage:
            self.regs[7] |= F_OVUV
        if self._conv_end is not None and self.now_ms >= self._conv_end:
            self._conv_end = None
            self._convert()
            self.regs[0] &= ~ONESHOT & 0xFF

    def _convert(self):
        self.conversions += 1
        if self.code is not None:
            code = self.code
        else:
            r = self.resistance_ohm
            code = 0x7FFF if r == float("inf") else min(0x7FFF, round(r / self.r_ref * 32768))
        high = ((self.regs[3] << 8) | self.regs[4]) >> 1
        low = ((self.regs[5] << 8) | self.regs[6]) >> 1
        if code >= high:
            self.regs[7] |= F_RTD_HIGH
        if code <= low:
            self.regs[7] |= F_RTD_LOW
        word = (code << 1) | (1 if self.regs[7] else 0)
        self.regs[1] = word >> 8
        self.regs[2] = word & 0xFF

    def _config(self, value: int):
        self._update()
        now = self.now_ms
        old = self.regs[0]
        if self._conv_end is not None:
            self.violations.append("config written during a conversion")
        if value & AUTO:
            self.violations.append("automatic conversion mode selected")
        if value & VBIAS and not old & VBIAS:
            self._bias_since = now
            self._settled_since = now
        elif old & VBIAS and not value & VBIAS:
            self.bias_ms += now - self._bias_since
            self._bias_since = None
        if value & FAULT_CLEAR:
            if value & (ONESHOT | FD_MASK):
                self.violations.append("fault clear written with D5/D3/D2 set")
            self.regs[7] = 0
        fd = value & FD_MASK
        old_fd = old & FD_MASK
        five_tau = 5 * self.tau_ms
        if fd == 0x08:  # manual cycle, first half: FORCE- closed, then opened
            if not value & VBIAS or now - self._settled_since < five_tau:
                self.violations.append("fault cycle started before the bias settled")
            self.regs[7] |= self.fault_cycle_bits & F_REFIN_HIGH
            self._switch_open_at = now
        elif fd == 0x0C:  # second half, FORCE- open; then the cycle ends
            if old_fd != 0x08:
                self.violations.append("second fault-cycle half without the first")
            elif now - self._switch_open_at < five_tau:
                self.violations.append("second fault-cycle half before 5 time constants")
            self.regs[7] |= self.fault_cycle_bits & (F_REFIN_LOW | F_RTDIN_LOW)
            self.fault_cycles += 1
            self._switch_open_at = None
            self._settled_since = now
            fd = 0
        elif fd == 0x04:  # automatic cycle
            self.regs[7] |= self.fault_cycle_bits
            self.fault_cycles += 1
            fd = 0
        elif old_fd == 0x08:  # first half abandoned: FORCE- closes again
            self._switch_open_at = None
            self._settled_since = now
        stored = (value & ~(FAULT_CLEAR | FD_MASK | ONESHOT) & 0xFF) | fd
        if value & ONESHOT:
            if value & AUTO or fd:
                self.violations.append("1-shot together with auto mode or a fault cycle")
            if not value & VBIAS:
                self.violations.append("1-shot with VBIAS off")
            elif now - self._settled_since < 10.5 * self.tau_ms:
                self.violations.append("1-shot before 10.5 time constants of settled bias")
            conv = 62.5 if value & FILTER_50 else 52.0
            self._conv_end = now + conv + self.extra_conv_ms
            stored |= ONESHOT
        self.regs[0] = stored
        if self.overvoltage:
            self.regs[7] |= F_OVUV
