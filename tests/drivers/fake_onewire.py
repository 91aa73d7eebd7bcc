"""A simulated 1-Wire bus with DS18B20 devices, at the level of MicroPython's
`onewire.OneWire` API (reset/presence, readbit/readbyte/readinto, writebyte/
write, select_rom, scan, crc8).

Each device follows the DS18B20 command flow byte by byte: after a reset it
expects a ROM command (Skip ROM 0xCC, Match ROM 0x55 + 8 ROM bytes), then one
function command (Convert T 0x44, Read Scratchpad 0xBE, Write Scratchpad
0x4E + TH, TL, config). Several selected devices answer together on the
open-drain bus, so their bits are AND-ed (a Skip ROM read with two sensors
gives a CRC error, as on a real bus). A conversion takes the datasheet time
for the device's resolution on the test's clock and only then updates the
temperature register; reading earlier returns the previous value.

Faults the tests can program per device: `present = False` (no presence
pulse, reads all ones), `corrupt_reads = n` (the next n scratchpad reads have
a flipped bit), `mute = True` (answers the reset but never drives data, so
reads are all ones), `brownout = True` (each conversion resets the device, so it
keeps reading the 85 degC power-on value), `power_cycle()`; and on the bus
`stuck_low = True` (DQ shorted to GND: presence seen, every bit reads 0).
"""

from __future__ import annotations

from fake_machine import Clock

CONV_US = {9: 93_750, 10: 187_500, 11: 375_000, 12: 750_000}


class OneWireError(Exception):
    pass


def crc8(data) -> int:
    """Dallas/Maxim CRC8 (x^8 + x^5 + x^4 + 1, LSB first)."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def make_rom(serial: int, family: int = 0x28) -> bytes:
    body = bytes([family]) + serial.to_bytes(6, "little")
    return body + bytes([crc8(body)])


def encode(temp_c: float, bits: int, fill_undefined: bool = False) -> int:
    """The 16-bit temperature register for temp_c at a resolution: rounded to
    the resolution's step, clamped to the register's range, two's complement.
    fill_undefined sets the undefined low bits (below 12 bit) to ones."""
    step = 1 << (12 - bits)
    raw = round(temp_c * 16 / step) * step
    raw = max(-0x8000, min(0x7FFF - (step - 1), raw))
    raw &= 0xFFFF
    if fill_undefined:
        raw |= step - 1
    return raw


def decode(raw: int) -> float:
    if raw & 0x8000:
        raw -= 0x10000
    return raw / 16


class FakeDS18B20:
    EEPROM_TH = 0x4B
    EEPROM_TL = 0x46

    def __init__(self, serial: int = 1, temp_c: float = 20.0, eeprom_bits: int = 12,
                 fill_undefined: bool = True):
        self.rom = make_rom(serial)
        self.temp_c = temp_c
        self.eeprom_bits = eeprom_bits
        self.fill_undefined = fill_undefined
        self.present = True
        self.mute = False
        self.corrupt_reads = 0
        self.brownout = False
        self.conversions = 0
        self.reads = 0
        self.config_writes = 0
        self.power_cycle()

    # ---- test side ----
    def power_cycle(self):
        self.th = self.EEPROM_TH
        self.tl = self.EEPROM_TL
        self.config = ((self.eeprom_bits - 9) << 5) | 0x1F
        self.register = 0x0550
        self.done_us: int | None = None

    @property
    def bits(self) -> int:
        return 9 + ((self.config >> 5) & 3)

    # ---- bus side ----
    def settle(self, now_us: int):
        if self.done_us is not None and now_us >= self.done_us:
            self.done_us = None
            if self.brownout:
                self.power_cycle()
            else:
                self.register = encode(self.temp_c, self.bits, self.fill_undefined)

    def convert(self, now_us: int):
        self.conversions += 1
        self.done_us = now_us + CONV_US[self.bits]

    def converting(self, now_us: int) -> bool:
        self.settle(now_us)
        return self.done_us is not None

    def scratchpad(self, now_us: int) -> bytes:
        self.settle(now_us)
        self.reads += 1
        body = bytes([self.register & 0xFF, self.register >> 8, self.th, self.tl,
                      self.config, 0xFF, 0x0C, 0x10])
        data = bytearray(body + bytes([crc8(body)]))
        if self.corrupt_reads:
            self.corrupt_reads -= 1
            data[0] ^= 0x04
        return bytes(data)

    def write_scratchpad(self, th: int, tl: int, config: int):
        self.config_writes += 1
        self.th = th
        self.tl = tl
        # Only R1 R0 are writable; the other configuration bits are fixed.
        self.config = (config & 0x60) | 0x1F


_ROM_CMD, _MATCH, _FUNC, _READ, _WRITE, _DONE = range(6)


class FakeOneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, clock: Clock, devices=()):
        self.clock = clock
        self.devices: list[FakeDS18B20] = list(devices)
        self.stuck_low = False
        self.resets = 0
        self.bytes_written = 0
        self.bytes_read = 0
        self.log: list[tuple[int, int, tuple[bytes, ...]]] = []  # (us, command, selected ROMs)
        self._state = _DONE
        self._selected: list[FakeDS18B20] = []
        self._match = bytearray()
        self._out = bytearray()
        self._in = bytearray()

    def _present(self) -> list[FakeDS18B20]:
        return [d for d in self.devices if d.present]

    def reset(self, required: bool = False) -> bool:
        self.resets += 1
        self._state = _ROM_CMD
        self._selected = []
        present = self.stuck_low or bool(self._present())
        if required and not present:
            raise OneWireError
        return present

    def writebyte(self, value: int):
        self.bytes_written += 1
        value &= 0xFF
        now = self.clock.us
        if self._state == _ROM_CMD:
            if value == self.SKIP_ROM:
                self._selected = self._present()
                self._state = _FUNC
            elif value == self.MATCH_ROM:
                self._match = bytearray()
                self._state = _MATCH
            else:
                self._state = _DONE
        elif self._state == _MATCH:
            self._match.append(value)
            if len(self._match) == 8:
                self._selected = [d for d in self._present() if d.rom == bytes(self._match)]
                self._state = _FUNC
        elif self._state == _FUNC:
            self.log.append((now, value, tuple(d.rom for d in self._selected)))
            if value == 0x44:
                for d in self._selected:
                    d.convert(now)
                self._state = _DONE
            elif value == 0xBE:
                out = bytearray(b"\xff" * 9)
                for d in self._selected:
                    if d.mute:
                        continue
                    pad = d.scratchpad(now)
                    for i in range(9):
                        out[i] &= pad[i]
                self._out = out
                self._state = _READ
            elif value == 0x4E:
                self._in = bytearray()
                self._state = _WRITE
            else:
                self._state = _DONE
        elif self._state == _WRITE:
            self._in.append(value)
            if len(self._in) == 3:
                for d in self._selected:
                    d.write_scratchpad(*self._in)
                self._state = _DONE

    def write(self, buf):
        for b in buf:
            self.writebyte(b)

    def writebit(self, value: int):
        pass

    def readbyte(self) -> int:
        self.bytes_read += 1
        if self.stuck_low:
            return 0
        if self._state == _READ and self._out:
            return self._out.pop(0)
        if self._state == _DONE and any(d.converting(self.clock.us) for d in self._selected):
            return 0  # read slots during a conversion answer 0 until it is done
        return 0xFF

    def readbit(self) -> int:
        return self.readbyte() & 1

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = self.readbyte()

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self) -> list[bytearray]:
        return [bytearray(d.rom) for d in sorted(self._present(), key=lambda d: d.rom[::-1])]

    def crc8(self, data) -> int:
        return crc8(data)

    # ---- test side ----
    def commands(self, command: int) -> list[tuple[int, tuple[bytes, ...]]]:
        """(time_us, selected ROMs) of every time `command` was sent."""
        return [(t, roms) for t, c, roms in self.log if c == command]
