# PT100/PT1000 RTD through a MAX31865 RTD-to-digital converter on SPI
# (docs/drivers.md). The chip measures the ratio of the RTD to a reference
# resistor on the board; the driver turns the 15-bit ratio into ohms and the
# ohms into degC with the IEC 60751 Callendar-Van Dusen equation.
#
# One-shot mode, driven by poll() as a state machine: bias on, settle, the
# chip's manual fault-detection cycle (two halves, settling after each), a
# 1-shot conversion, then one burst read of all eight registers and bias off.
# Each step is one short SPI transaction (a few bytes at <= 5 MHz); the waits
# pass between polls. Polls do integer work only and allocate nothing; the
# float conversion runs when `value` is read.
from core import alarms
from core.compat import const
from core.config import ConfigError
from core.ticks import ticks_diff

WIRES = ("2", "3", "4")
FILTERS = ("50", "60")

PARAMS = (
    ("r_nominal_ohm", "ohm", 100.0, 1000.0, 100.0,
     "RTD resistance at 0 degC: 100 (PT100) .. 1000 (PT1000)"),
    ("r_ref_ohm", "ohm", 100.0, 10000.0, 430.0,
     "the board's reference resistor: 430 for PT100, 4300 for PT1000 (breakouts)"),
    ("wires", WIRES, 0, 0, "4", "RTD connection; 2 and 4 share a setting, 3 sets config D4"),
    ("filter_hz", FILTERS, 0, 0, "50", "mains frequency the converter's notch filter rejects"),
    ("period_ms", "ms", 0, 60000, 1000,
     "start of one reading to the start of the next (0: back to back, about 150 ms)"),
    ("fault_reads", "reads", 1, 10, 3, "consecutive faulty reads before a fault is raised"),
    ("offset_c", "degC", -5.0, 5.0, 0.0, "calibration offset added to the reading"),
)

# Registers (datasheet Table 1): reads at 0x0n, writes at 0x8n.
_REG_CONFIG_W = const(0x80)
_REG_HIGH_W = const(0x83)
# Configuration register bits.
_CFG_VBIAS = const(0x80)
_CFG_ONESHOT = const(0x20)
_CFG_3WIRE = const(0x10)
_CFG_FD_MANUAL1 = const(0x08)  # D3:D2 = 10: first half of the manual fault cycle
_CFG_FD_MANUAL2 = const(0x0C)  # D3:D2 = 11: second half
_CFG_FAULT_CLEAR = const(0x02)
_CFG_50HZ = const(0x01)
# Fault status register bits.
_F_RTD_HIGH = const(0x80)  # ratio >= high threshold: open RTD element
_F_RTD_LOW = const(0x40)  # ratio <= low threshold: element or RTDIN+/- shorted
_F_REFIN_HIGH = const(0x20)  # no current with FORCE- closed: open circuit
_F_REFIN_LOW = const(0x10)  # pulled low with FORCE- switch open: lead shorted to GND
_F_RTDIN_LOW = const(0x08)  # pulled low with FORCE- switch open: lead shorted to GND
_F_OVUV = const(0x04)  # a protected input outside GND..VDD: lead touching a foreign voltage
_OPEN_BITS = const(_F_RTD_HIGH | _F_REFIN_HIGH)
_SHORT_BITS = const(_F_RTD_LOW | _F_REFIN_LOW | _F_RTDIN_LOW | _F_OVUV)

_FULL = 32768.0  # ratio = code / 2^15
_CODE_MAX = const(0x7FFF)

# IEC 60751 Callendar-Van Dusen coefficients.
_A = 3.9083e-3
_B = -5.775e-7
_C = -4.183e-12
# R/R0 at the ends of the equation's range, -200 and +850 degC (IEC 60751
# table: 18.52 and 390.48 ohm for a PT100). Readings at or beyond them are
# the open and short thresholds, programmed into the chip as well.
_X_LOW = 0.18520
_X_HIGH = 3.90481
# R/R0 at 150 degC: r_ref must be above it so warm water never reads as open.
_X_TOP = 1.0 + _A * 150.0 + _B * 150.0 * 150.0

# Settling after each bias/switch change: the datasheet asks for 10.5 time
# constants of the input filter before a 1-shot conversion (5 before the
# second half of the fault cycle). The typical filter (100 nF for PT100,
# 10 nF for PT1000) gives about 53 us with the reference resistor in series;
# 10 ms covers filters up to about 0.9 ms.
_SETTLE_MS = const(10)
# Datasheet 1-shot conversion time: 52 ms (60 Hz filter), 62.5 ms (50 Hz);
# waited with margin. The config readback (D5 self-clears when the
# conversion is done) guards the read as well.
_CONV_MS_60 = const(56)
_CONV_MS_50 = const(66)
# now_ms is the start of the poll slice and the previous write may have gone
# out late in its slice, so one slice is added to every wait.
_SLICE_MS = const(10)

# States. Each one after _IDLE is "this write went out at self._t, wait".
_INIT = const(0)  # write config (bias off, clear faults) and the thresholds
_IDLE = const(1)  # until the next reading is due; then bias on
_BIAS = const(2)  # bias settling; then fault cycle, first half
_FD1 = const(3)  # FORCE- switch open, settling; then second half
_FD2 = const(4)  # fault cycle done, settling again; then 1-shot
_CONV = const(5)  # converting; then read everything, bias off


class MAX31865:
    """value: degC (float) or None; fault: T_OPEN / T_SHORT / T_NO_SENSOR (0 when healthy).
    Also: code (last good 15-bit ratio, None before one), status (last fault status
    register), resistance_ohm."""

    def __init__(self, spi, cs, params: dict):
        r0 = params["r_nominal_ohm"]
        r_ref = params["r_ref_ohm"]
        if r_ref <= r0 * _X_TOP:
            raise ConfigError("r_ref_ohm", "%s ohm is not above the RTD's %.1f ohm at 150 degC:"
                              " warm water would read as open (use 4.3 x r_nominal_ohm)"
                              % (r_ref, r0 * _X_TOP))
        if r_ref > 10.0 * r0:
            raise ConfigError("r_ref_ohm", "%s ohm is more than 10 x r_nominal_ohm %s: one code "
                              "would be %.2f degC (a PT1000 board with a PT100?)"
                              % (r_ref, r0, r_ref / _FULL / (r0 * _A)))
        self._spi = spi
        self._cs = cs
        self._r0 = r0
        self._r_ref = r_ref
        self._offset = params["offset_c"]
        self._period = params["period_ms"]
        self._fault_reads = params["fault_reads"]
        base = 0
        if params["wires"] == "3":
            base |= _CFG_3WIRE
        if params["filter_hz"] == "50":
            base |= _CFG_50HZ
            conv = _CONV_MS_50
        else:
            conv = _CONV_MS_60
        self._cfg = base
        self._conv_wait = conv + _SLICE_MS
        # Thresholds in ratio codes: a reading at or beyond one is a fault
        # (the chip's comparisons are >= high and <= low). Codes 0 and 0x7FFF
        # are always beyond them.
        lo = int(_X_LOW * r0 / r_ref * _FULL)
        hi = int(_X_HIGH * r0 / r_ref * _FULL) + 1
        self.code_low = lo if lo > 0 else 0
        self.code_high = hi if hi < _CODE_MAX else _CODE_MAX
        self._wcfg = bytearray((_REG_CONFIG_W, 0))
        # The threshold registers hold the code shifted left one bit, like RTD data.
        h = self.code_high << 1
        low = self.code_low << 1
        self._wthr = bytearray((_REG_HIGH_W, h >> 8, h & 0xFF, low >> 8, low & 0xFF))
        self._wread = bytearray(9)  # read from 0x00; the 8 bytes after it are don't-care
        self._rbuf = bytearray(9)  # [1] config, [2:4] RTD, [4:8] thresholds, [8] status
        self._state = _INIT
        self._t = 0
        self._t_cycle = 0
        self._due = False  # _t_cycle is meaningful only once a cycle has run
        self._bad = 0
        self.code = None
        self.status = 0
        self.fault = 0
        cs.value(1)

    # ---- conversion ----

    def resistance(self, code: int) -> float:
        return code * self._r_ref / _FULL

    def temperature(self, r_ohm: float) -> float:
        """degC for an RTD resistance (IEC 60751), without the offset."""
        x = r_ohm / self._r0
        # Quadratic (T >= 0 degC) in the form without cancellation near 0 degC.
        t = 2.0 * (x - 1.0) / (_A + (_A * _A + 4.0 * _B * (x - 1.0)) ** 0.5)
        if x < 1.0:
            # Below 0 degC the C term is added; Newton from the quadratic
            # root converges to float precision in three steps down to -200.
            for _ in range(3):
                t2 = t * t
                f = 1.0 + t * (_A + t * _B) + _C * (t - 100.0) * t2 * t - x
                df = _A + 2.0 * _B * t + _C * t2 * (4.0 * t - 300.0)
                t -= f / df
        return t

    @property
    def resistance_ohm(self):
        """RTD resistance of the last good reading, None before one."""
        if self.code is None:
            return None
        return self.resistance(self.code)

    @property
    def value(self):
        """degC, None while faulted or before the first good reading."""
        if self.fault or self.code is None:
            return None
        return self.temperature(self.resistance(self.code)) + self._offset

    # ---- SPI ----

    def _send(self, buf):
        cs = self._cs
        cs.value(0)
        try:
            self._spi.write(buf)
        finally:
            cs.value(1)

    def _write_cfg(self, cfg: int):
        self._wcfg[1] = cfg
        self._send(self._wcfg)

    def _read_all(self):
        cs = self._cs
        cs.value(0)
        try:
            self._spi.write_readinto(self._wread, self._rbuf)
        finally:
            cs.value(1)

    # ---- state machine ----

    def poll(self, now_ms: int):
        st = self._state
        if st <= _IDLE:
            # Compared as an elapsed time rather than against a ticks_add()ed
            # due time: near the tick wrap that sum is briefly a heap long.
            if self._due and ticks_diff(now_ms, self._t_cycle) < self._period:
                return
            if st == _INIT:
                self._write_cfg(self._cfg | _CFG_FAULT_CLEAR)
                self._send(self._wthr)
                self._state = _IDLE
                return
            self._t_cycle = now_ms
            self._write_cfg(self._cfg | _CFG_VBIAS)
        elif st < _CONV:
            if ticks_diff(now_ms, self._t) < _SETTLE_MS + _SLICE_MS:
                return
            if st == _BIAS:
                self._write_cfg(self._cfg | _CFG_VBIAS | _CFG_FD_MANUAL1)
            elif st == _FD1:
                self._write_cfg(self._cfg | _CFG_VBIAS | _CFG_FD_MANUAL2)
            else:
                self._write_cfg(self._cfg | _CFG_VBIAS | _CFG_ONESHOT)
        else:
            waited = ticks_diff(now_ms, self._t)
            if waited < self._conv_wait:
                return
            self._read_all()
            cfg = self._rbuf[1]
            if cfg == (self._cfg | _CFG_VBIAS | _CFG_ONESHOT) and waited < 2 * self._conv_wait:
                return  # still converting (D5 set): read again next poll
            self._finish()
            return
        self._t = now_ms
        self._state = st + 1

    def _finish(self):
        r = self._rbuf
        w = self._wthr
        status = r[8]
        # Bias off at once; the fault status latches (so that a fault between
        # readings is seen too), so clear what was read.
        self._write_cfg((self._cfg | _CFG_FAULT_CLEAR) if status else self._cfg)
        self._state = _IDLE
        self._due = True
        if (r[1] != (self._cfg | _CFG_VBIAS) or r[4] != w[1] or r[5] != w[2] or r[6] != w[3]
                or r[7] != w[4]):
            # Not the configuration written: no chip answering (all 0x00 or
            # 0xFF), a stuck conversion, or a chip that reset (power-on
            # values). Configure it again before the next reading.
            self._state = _INIT
            self._bad_read(alarms.T_NO_SENSOR)
            return
        self.status = status
        # The fault flag in the RTD LSB only repeats "status != 0"; the
        # status bits say which fault, and the code is checked as well in
        # case the chip's comparison did not fire.
        code = ((r[2] << 8) | r[3]) >> 1
        bad = 0
        if status & _OPEN_BITS or code >= self.code_high:
            bad = alarms.T_OPEN
        if status & _SHORT_BITS or code <= self.code_low:
            bad |= alarms.T_SHORT
        if bad:
            self._bad_read(bad)
            return
        self._bad = 0
        self.code = code
        self.fault = 0

    def _bad_read(self, bits: int):
        if self._bad < self._fault_reads:
            self._bad += 1
        if self._bad >= self._fault_reads:
            self.fault = bits
