# DS18B20's ROM parsing (drivers/ds18b20.py parse_rom): code a running board
# never calls again, loaded when a driver is built and dropped
# (docs/performance.md, "Memory").
from core.compat import const
from core.config import ConfigError

_FAMILY = const(0x28)  # the DS18B20's family code (drivers/ds18b20.py)


def parse_rom(text, crc8) -> bytes:
    """drivers.ds18b20.parse_rom."""
    if isinstance(text, (bytes, bytearray)) and len(text) == 8:
        rom = bytes(text)
    else:
        if not isinstance(text, str) or len(text) != 16:
            raise ConfigError("rom", "%r is not 16 hex digits" % (text,))
        buf = bytearray(8)
        for i in range(8):
            pair = text[2 * i:2 * i + 2]
            for ch in pair:
                if ch not in "0123456789abcdefABCDEF":
                    raise ConfigError("rom", "%r is not 16 hex digits" % (text,))
            buf[i] = int(pair, 16)
        rom = bytes(buf)
    if crc8(rom) != 0:
        raise ConfigError("rom", "ROM CRC does not match (typo, or byte order reversed?)")
    if rom[0] != _FAMILY:
        raise ConfigError("rom", "family code 0x%02x is not a DS18B20 (0x28)" % rom[0])
    return rom
