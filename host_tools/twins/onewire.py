# Twin of the `onewire` module the ESP32 and RP2 ports freeze (micropython-lib
# onewire.py over extmod/modonewire.c: ports/esp32/boards/manifest.py and
# ports/rp2/boards/manifest.py `require("onewire")`), and the world side of a
# 1-Wire bus with DS18B20 device models.
#
# Bus timing from extmod/modonewire.c:38-46: a reset takes 480+70+410 us, every
# bit slot 70 us (read 6+9+55, write 6+54+10), all blocking the caller.
from . import args as A

RESET_US = 480 + 70 + 410
SLOT_US = 70


def crc8(data):
    """Dallas/Maxim CRC8 (x^8 + x^5 + x^4 + 1, LSB first), as extmod/modonewire.c:126-145."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


class OneWireError(Exception):
    pass


class OneWire:
    """micropython-lib onewire.OneWire on a twin Pin."""

    _board = None
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self.pin = pin
        pin.init(pin.OPEN_DRAIN, pin.PULL_UP)
        self._pid = pin._id

    def _bus(self):
        # Every slot of extmod/modonewire.c:48-84 ends with the line released
        # (mp_hal_pin_od_high), whatever the output latch held before.
        s = self._board.pin(self._pid)
        s.latch = 1
        return s.bus

    def reset(self, required=False):
        board = self._board
        board.clock.advance_us(RESET_US)
        bus = self._bus()
        if bus is not None:
            present = bus.reset()
        else:
            present = board.pin(self._pid).ext == 0  # something holds DQ low
        if required and not present:
            raise OneWireError
        return present

    def readbit(self):
        board = self._board
        board.clock.advance_us(SLOT_US)
        bus = self._bus()
        if bus is not None:
            return bus.read_bit()
        return board.level(self._pid)

    def readbyte(self):
        value = 0
        for i in range(8):
            value |= self.readbit() << i
        return value

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = self.readbyte()

    def writebit(self, value):
        board = self._board
        board.clock.advance_us(SLOT_US)
        bus = self._bus()
        if bus is not None:
            bus.write_bit(1 if value else 0)

    def writebyte(self, value):
        value = A.get_int(value)
        for i in range(8):
            self.writebit((value >> i) & 1)

    def write(self, buf):
        for b in buf:
            self.writebyte(b)

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self):
        devices = []
        diff = 65
        rom = False
        for _ in range(0xFF):
            rom, diff = self._search_rom(rom, diff)
            if rom:
                devices += [rom]
            if diff == 0:
                break
        return devices

    def _search_rom(self, l_rom, diff):
        if not self.reset():
            return None, 0
        self.writebyte(self.SEARCH_ROM)
        if not l_rom:
            l_rom = bytearray(8)
        rom = bytearray(8)
        next_diff = 0
        i = 64
        for byte in range(8):
            r_b = 0
            for bit in range(8):
                b = self.readbit()
                if self.readbit():
                    if b:  # there are no devices or there is an error on the bus
                        return None, 0
                else:
                    if not b:  # collision, two devices with different bit meaning
                        if diff > i or ((l_rom[byte] & (1 << bit)) and diff != i):
                            b = 1
                            next_diff = i
                self.writebit(b)
                if b:
                    r_b |= 1 << bit
                i -= 1
            rom[byte] = r_b
        return rom, next_diff

    def crc8(self, data):
        return crc8(data)


class _Module:
    pass


def make_module(m):
    """The `onewire` module twin for machine twin m."""
    from .common import bind

    mod = _Module()
    mod.OneWire = bind(OneWire, m._board)
    mod.OneWireError = OneWireError
    return mod


# ---- world side: the bus and its devices ----------------------------------------------
CONV_US = {9: 93750, 10: 187500, 11: 375000, 12: 750000}  # DS18B20 datasheet tCONV


def make_rom(serial, family=0x28):
    body = bytes([family]) + bytes((serial >> (8 * i)) & 0xFF for i in range(6))
    return body + bytes([crc8(body)])


def encode(temp_c, bits, fill_undefined=False):
    """The DS18B20 temperature register for temp_c at a resolution."""
    step = 1 << (12 - bits)
    raw = int(round(temp_c * 16 / step)) * step
    hi = 0x7FFF - (step - 1)
    raw = -0x8000 if raw < -0x8000 else hi if raw > hi else raw
    raw &= 0xFFFF
    if fill_undefined:
        raw |= step - 1
    return raw


def decode(raw):
    if raw & 0x8000:
        raw -= 0x10000
    return raw / 16


class DS18B20:
    """A DS18B20 on the bus (datasheet command flow). Test-side faults: present,
    mute (answers reset, never drives data), corrupt_reads (next n scratchpad reads
    have a flipped bit), brownout (a conversion resets it to the 85 degC value)."""

    EEPROM_TH = 0x4B
    EEPROM_TL = 0x46

    def __init__(self, serial=1, temp_c=20.0, eeprom_bits=12, fill_undefined=True):
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

    def power_cycle(self):
        self.th = self.EEPROM_TH
        self.tl = self.EEPROM_TL
        self.config = ((self.eeprom_bits - 9) << 5) | 0x1F
        self.register = 0x0550
        self.done_us = None

    @property
    def bits(self):
        return 9 + ((self.config >> 5) & 3)

    def settle(self, now_us):
        if self.done_us is not None and now_us >= self.done_us:
            self.done_us = None
            if self.brownout:
                self.power_cycle()
            else:
                self.register = encode(self.temp_c, self.bits, self.fill_undefined)

    def convert(self, now_us):
        self.conversions += 1
        self.done_us = now_us + CONV_US[self.bits]

    def converting(self, now_us):
        self.settle(now_us)
        return self.done_us is not None

    def scratchpad(self, now_us):
        self.settle(now_us)
        self.reads += 1
        body = bytes([self.register & 0xFF, self.register >> 8, self.th, self.tl,
                      self.config, 0xFF, 0x0C, 0x10])
        data = bytearray(body + bytes([crc8(body)]))
        if self.corrupt_reads:
            self.corrupt_reads -= 1
            data[0] ^= 0x04
        return bytes(data)

    def write_scratchpad(self, th, tl, config):
        self.config_writes += 1
        self.th = th
        self.tl = tl
        self.config = (config & 0x60) | 0x1F


_ROM_CMD, _MATCH, _FUNC, _READ, _WRITE, _DONE, _SEARCH = range(7)


class OneWireBus:
    """World.onewire(pin): the wire. attach(device); stuck_low = True shorts DQ to GND
    (presence seen, every bit reads 0). log: (us, function command, selected ROMs)."""

    def __init__(self, clock, devices=()):
        self.clock = clock
        self.devices = list(devices)
        self.stuck_low = False
        self.resets = 0
        self.log = []
        self._state = _DONE
        self._selected = []
        self._bits = []
        self._match = bytearray()
        self._out = []  # bits to read, LSB first
        self._in = bytearray()
        self._search = None

    def attach(self, device):
        self.devices.append(device)
        return device

    def level(self, board, s):
        if self.stuck_low or (s.mode == "od" and s.latch == 0):
            return 0
        return 1  # the bus pull-up

    def _present(self):
        return [d for d in self.devices if d.present]

    # ---- the master's slots ------------------------------------------------
    def reset(self):
        self.resets += 1
        self._state = _ROM_CMD
        self._selected = []
        self._bits = []
        self._out = []
        return self.stuck_low or bool(self._present())

    def write_bit(self, bit):
        if self._state == _SEARCH:
            self._search_write(bit)
            return
        self._bits.append(bit)
        if len(self._bits) == 8:
            value = 0
            for i in range(8):
                value |= self._bits[i] << i
            self._bits = []
            self._byte(value)

    def read_bit(self):
        if self.stuck_low:
            return 0
        if self._state == _SEARCH:
            return self._search_read()
        if self._state == _READ and self._out:
            return self._out.pop(0)
        now = self.clock.us
        if self._state == _DONE and any(d.converting(now) for d in self._selected):
            return 0  # read slots during a conversion answer 0 until it is done
        return 1

    # ---- protocol --------------------------------------------------------------
    def _byte(self, value):
        now = self.clock.us
        st = self._state
        if st == _ROM_CMD:
            if value == 0xCC:
                self._selected = self._present()
                self._state = _FUNC
            elif value == 0x55:
                self._match = bytearray()
                self._state = _MATCH
            elif value == 0xF0:
                self._search = [self._present(), 0, 0]  # candidates, bit index, phase
                self._state = _SEARCH
            else:
                self._state = _DONE
        elif st == _MATCH:
            self._match.append(value)
            if len(self._match) == 8:
                rom = bytes(self._match)
                self._selected = [d for d in self._present() if d.rom == rom]
                self._state = _FUNC
        elif st == _FUNC:
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
                self._out = [(b >> i) & 1 for b in out for i in range(8)]
                self._state = _READ
            elif value == 0x4E:
                self._in = bytearray()
                self._state = _WRITE
            else:
                self._state = _DONE
        elif st == _WRITE:
            self._in.append(value)
            if len(self._in) == 3:
                for d in self._selected:
                    d.write_scratchpad(self._in[0], self._in[1], self._in[2])
                self._state = _DONE

    def _rom_bit(self, d, i):
        return (d.rom[i // 8] >> (i % 8)) & 1

    def _search_read(self):
        cands, i, phase = self._search
        if i >= 64 or not cands:
            return 1
        if phase == 0:
            self._search[2] = 1
            return min(self._rom_bit(d, i) for d in cands)
        self._search[2] = 2
        return min(1 - self._rom_bit(d, i) for d in cands)

    def _search_write(self, bit):
        cands, i, phase = self._search
        if i >= 64:
            return
        self._search = [[d for d in cands if self._rom_bit(d, i) == bit], i + 1, 0]
        if i + 1 == 64:
            self._selected = self._search[0]
            self._state = _FUNC

    # ---- test side -------------------------------------------------------------
    def commands(self, command):
        """(time_us, selected ROMs) of every time `command` was sent."""
        return [(t, roms) for t, c, roms in self.log if c == command]
