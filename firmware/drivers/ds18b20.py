# DS18B20 on a 1-Wire bus, driven as a state machine so that no poll waits for
# the 94..750 ms conversion: one poll selects the sensor (reset + ROM command),
# the next sends the function command and its data, and the conversion time
# passes between polls. The bus object has MicroPython's onewire.OneWire API;
# the ds18x20 module is not used because it hides presence and CRC failures
# behind one generic exception.
from core import alarms
from core.compat import const, unload
from core.ticks import ticks_add, ticks_diff

PARAMS = (
    ("resolution_bits", "bit", 9, 12, 12,
     "conversion resolution: 9 (0.5 degC, 94 ms) .. 12 (0.0625 degC, 750 ms)"),
    ("period_ms", "ms", 0, 60000, 1000, "conversion start to the next start (0: back to back)"),
    ("crc_retries", "reads", 1, 10, 3, "consecutive bad-CRC scratchpad reads before T_CRC"),
    ("absent_retries", "tries", 1, 10, 2, "consecutive unanswered tries before T_NO_SENSOR"),
    ("offset_c", "degC", -5.0, 5.0, 0.0, "calibration offset added to the reading"),
)

_SKIP_ROM = const(0xCC)
_MATCH_ROM = const(0x55)
_CONVERT_T = const(0x44)
_READ_SCRATCHPAD = const(0xBE)
_WRITE_SCRATCHPAD = const(0x4E)
_POWER_ON_RAW = const(0x0550)  # 85 degC: the temperature register's reset value

# DS18B20 datasheet, tCONV max: 93.75 / 187.5 / 375 / 750 ms at 9..12 bit.
_CONV_MS = (94, 188, 375, 750)
# now_ms is the start of the poll slice but Convert T can go out later in that
# slice, so one slice is added before the scratchpad may be read.
_SLICE_MS = const(10)

# States. Those followed by a "+ 1" state start a transaction (reset + ROM
# command) and hand the function command to the next poll.
_CONFIG = const(0)  # select, then write the resolution
_CONFIG_WRITE = const(1)
_IDLE = const(2)  # until the next conversion is due; then select
_CONVERT = const(3)
_WAIT = const(4)  # converting; when done, select
_READ = const(5)

# The bus a driver is half-way through a transaction on (several drivers may
# share one bus with Match ROM; another driver's reset would cut them off).
_owner = {}


def parse_rom(text, crc8) -> bytes:
    """The 8 ROM bytes from 16 hex digits as printed by hexlify(rom) (family
    code 0x28 first), checked against the ROM's own CRC; or ConfigError
    (drivers/ds18b20_setup.py)."""
    from drivers import ds18b20_setup  # used once: loaded and dropped

    try:
        return ds18b20_setup.parse_rom(text, crc8)
    finally:
        unload("drivers.ds18b20_setup")


class DS18B20:
    """value: degC (float) or None; fault: alarm bits (0 when healthy)."""

    def __init__(self, ow, params: dict, rom=None):
        self._ow = ow
        self._rom = None if rom is None else parse_rom(rom, ow.crc8)
        self._bits = params["resolution_bits"]
        self._conv_ms = _CONV_MS[self._bits - 9] + _SLICE_MS
        self._period = params["period_ms"]
        self._crc_retries = params["crc_retries"]
        self._absent_retries = params["absent_retries"]
        self._offset = params["offset_c"]
        self._buf = bytearray(9)
        # Write Scratchpad: TH, TL (alarm limits, unused here: the widest
        # range so the alarm flag never matters) and the configuration byte,
        # whose low 5 bits read back as ones.
        self._wbuf = bytearray((_WRITE_SCRATCHPAD, 125, 0xC9, ((self._bits - 9) << 5) | 0x1F))
        self._state = _CONFIG
        self._next = 0
        self._due = False  # _next is meaningful only once a cycle has run
        self._t0 = 0
        self._crc_bad = 0
        self._absent = 0
        self.value = None
        self.fault = 0
        if ow not in _owner:
            _owner[ow] = None

    def poll(self, now_ms: int):
        ow = self._ow
        st = self._state
        if st == _CONVERT or st == _READ or st == _CONFIG_WRITE:
            # Second half of our transaction: free the bus first so that an
            # exception from the bus object cannot leave it held.
            _owner[ow] = None
            if st == _CONVERT:
                ow.writebyte(_CONVERT_T)
                self._t0 = now_ms
                self._state = _WAIT
            elif st == _READ:
                ow.writebyte(_READ_SCRATCHPAD)
                ow.readinto(self._buf)
                self._evaluate(now_ms)
            else:
                ow.write(self._wbuf)
                self._state = _IDLE
            return
        if st == _WAIT:
            if ticks_diff(now_ms, self._t0) < self._conv_ms:
                return
        elif self._due and ticks_diff(now_ms, self._next) < 0:
            return
        if _owner[ow] is not None:
            return
        if not self._select():
            self._missing(now_ms)
            return
        _owner[ow] = self
        self._state = st + 1

    def _select(self) -> bool:
        # Match ROM by hand rather than OneWire.select_rom(): that one resets
        # the bus itself and drops the presence answer we need.
        ow = self._ow
        if not ow.reset():
            return False
        if self._rom is None:
            ow.writebyte(_SKIP_ROM)
        else:
            ow.writebyte(_MATCH_ROM)
            ow.write(self._rom)
        return True

    def _raise(self, bit: int):
        self.fault = bit
        self.value = None

    def _missing(self, now_ms: int):
        self._absent += 1
        self._crc_bad = 0
        # A sensor that answers again has lost power: its resolution is back
        # to the EEPROM setting, so it is configured before the next conversion.
        self._state = _CONFIG
        self._due = True
        if self._absent >= self._absent_retries:
            self._raise(alarms.T_NO_SENSOR)
            self._next = ticks_add(now_ms, self._period)
        else:
            self._next = now_ms

    def _evaluate(self, now_ms: int):
        b = self._buf
        ones = 0xFF
        zeros = 0
        for x in b:
            ones &= x
            zeros |= x
        # All ones: nobody drove the bus. All zeros: DQ held low (shorted),
        # which a reset takes for a presence pulse and whose CRC is valid.
        if ones == 0xFF or zeros == 0:
            self._missing(now_ms)
            return
        self._absent = 0
        if self._ow.crc8(b) != 0:
            self._crc_bad += 1
            if self._crc_bad < self._crc_retries:
                self._state = _WAIT  # conversion time has passed: re-read next poll
                return
            self._raise(alarms.T_CRC)
            self._next_cycle(_IDLE)
            return
        self._crc_bad = 0
        raw = b[0] | (b[1] << 8)
        if raw == _POWER_ON_RAW:
            # The register still holds its reset value after a conversion we
            # waited for: the sensor reset (brown-out, supply glitch) after
            # Convert T. A true 85.0 degC is outside any water loop, so it is
            # not worth confirming; start over at once, resolution included.
            self._raise(alarms.T_POWER_ON)
            self._state = _CONFIG
            self._next = now_ms
            return
        bits = 9 + ((b[4] >> 5) & 3)
        # A changed configuration byte also means the sensor reset; the value
        # is good (CRC, not 85) but is decoded at the resolution it reports.
        self._next_cycle(_IDLE if bits == self._bits else _CONFIG)
        if raw & 0x8000:
            raw -= 0x10000
        # Below 12 bit the low bits are undefined (datasheet, Figure 4).
        raw &= -(1 << (12 - bits))
        self.value = raw * 0.0625 + self._offset
        self.fault = 0

    def _next_cycle(self, state: int):
        self._state = state
        self._next = ticks_add(self._t0, self._period)
        self._due = True
