"""PWM, DAC, SPI, onewire and esp32.PCNT twins (docs/machine-twins.md)."""

import pytest

from host_tools.twins import PORTS, make_machine
from host_tools.twins.onewire import DS18B20, crc8, decode


@pytest.fixture(params=PORTS)
def m(request):
    return make_machine(request.param)


# ---- PWM --------------------------------------------------------------------------
def test_esp32_pwm_without_duty_starts_at_half():
    m = make_machine("esp32")
    m.PWM(m.Pin(13))
    out = m.world.pwm(13)
    assert out.freq == 5000 and out.duty == pytest.approx(0.5)


def test_pwm_duty_u16_sets_the_duty(m):
    pwm = m.PWM(m.Pin(13), freq=1000, duty_u16=0)
    out = m.world.pwm(13)
    assert out.duty == 0.0
    pwm.duty_u16(32768)
    assert out.duty == pytest.approx(0.5, abs=1e-3)
    pwm.duty_u16(65535)
    assert out.duty == pytest.approx(1.0)


def test_esp32_pwm_resolution_falls_with_frequency():
    m = make_machine("esp32")
    pwm = m.PWM(m.Pin(13), freq=20000, duty_u16=1000)
    # 80 MHz / 20 kHz = 4000 counts: 11 bits, so duty_u16 reads back in steps of 32
    assert pwm.duty_u16() == 1000 // 32 * 32


def test_pwm_duty_range(m):
    pwm = m.PWM(m.Pin(13), freq=1000, duty_u16=0)
    if m.port == "esp32":
        with pytest.raises(ValueError, match="duty_u16 must be from 0 to 65536"):
            pwm.duty_u16(70000)
    else:
        pwm.duty_u16(70000)  # the rp2 port clamps
        assert pwm.duty_u16() == 65535


def test_pwm_frequency_limits():
    esp = make_machine("esp32")
    with pytest.raises(ValueError, match="frequency must be from 1Hz to 40MHz"):
        esp.PWM(esp.Pin(13), freq=0)
    rp = make_machine("rp2")
    with pytest.raises(ValueError, match="freq too small"):
        rp.PWM(rp.Pin(13), freq=5)


def test_pwm_takes_no_unknown_keyword(m):
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        m.PWM(m.Pin(13), freq=1000, duty=5, bogus=1) if m.port == "rp2" else \
            m.PWM(m.Pin(13), freq=1000, bogus=1)


def test_esp32_pwm_after_deinit_is_inactive():
    m = make_machine("esp32")
    pwm = m.PWM(m.Pin(13), freq=1000, duty_u16=100)
    pwm.deinit()
    with pytest.raises(RuntimeError, match="PWM is inactive"):
        pwm.duty_u16(5)
    assert m.world.pwm(13).duty == 0.0


# ---- DAC --------------------------------------------------------------------------
def test_dac_only_on_esp32_pins_25_26():
    m = make_machine("esp32")
    with pytest.raises(ValueError, match="invalid Pin for DAC"):
        m.DAC(m.Pin(13))
    dac = m.DAC(m.Pin(25))
    assert m.world.dac(25).value == 0
    dac.write(255)
    assert m.world.dac(25).volts == pytest.approx(3.3)
    with pytest.raises(ValueError, match="value out of range"):
        dac.write(256)
    assert not hasattr(make_machine("rp2"), "DAC")


# ---- SPI --------------------------------------------------------------------------
SPI = {"esp32": (1, 14, 13, 12), "rp2": (0, 18, 19, 16)}


class Echo:
    def __init__(self):
        self.selected = 0
        self.got = []

    def select(self):
        self.selected += 1

    def exchange(self, byte):
        self.got.append(byte)
        return byte ^ 0xFF


def spi(m):
    sid, sck, mosi, miso = SPI[m.port]
    return m.SPI(sid, baudrate=1000000, polarity=0, phase=1, sck=m.Pin(sck),
                 mosi=m.Pin(mosi), miso=m.Pin(miso)), sid


def test_spi_exchanges_with_the_selected_device_only(m):
    bus, sid = spi(m)
    cs = m.Pin(5, m.Pin.OUT, value=1)
    dev = Echo()
    m.world.spi(sid).attach(dev, cs=5)
    r = bytearray(2)
    bus.write_readinto(b"\x01\x02", r)
    assert r == b"\x00\x00" and dev.got == []  # CS high: MISO undriven
    cs(0)
    bus.write_readinto(b"\x01\x02", r)
    assert bytes(r) == b"\xfe\xfd" and dev.selected == 1
    assert m.world.clock.us == 2 * 16  # 16 bits each time at 1 MHz


def test_spi_buffers_must_match(m):
    bus, _ = spi(m)
    with pytest.raises(ValueError, match="same length"):
        bus.write_readinto(b"\x01", bytearray(2))


def test_spi_ids_and_pins():
    esp = make_machine("esp32")
    with pytest.raises(ValueError, match="SPI\\(3\\) doesn't exist"):
        esp.SPI(3)
    rp = make_machine("rp2")
    with pytest.raises(ValueError, match="bad SCK pin"):
        rp.SPI(0, sck=rp.Pin(10))


# ---- onewire ------------------------------------------------------------------------
def test_onewire_without_devices_has_no_presence_and_reads_ones(m):
    ow = m.onewire.OneWire(m.Pin(4))
    assert ow.reset() is False
    with pytest.raises(m.onewire.OneWireError):
        ow.reset(required=True)
    assert ow.readbyte() == 0xFF


def test_onewire_scan_convert_and_read(m):
    w = m.world
    bus = w.onewire(4)
    a = bus.attach(DS18B20(serial=1, temp_c=21.5))
    b = bus.attach(DS18B20(serial=7, temp_c=-3.25))
    ow = m.onewire.OneWire(m.Pin(4))
    assert sorted(bytes(r) for r in ow.scan()) == sorted([a.rom, b.rom])
    ow.reset()
    ow.writebyte(0xCC)
    ow.writebyte(0x44)
    w.clock.advance_ms(800)
    for dev in (a, b):
        ow.select_rom(dev.rom)
        ow.writebyte(0xBE)
        pad = bytearray(9)
        ow.readinto(pad)
        assert crc8(pad) == 0
        assert decode(pad[0] | pad[1] << 8) == pytest.approx(dev.temp_c, abs=0.0625)


def test_onewire_bus_time_blocks_the_caller(m):
    ow = m.onewire.OneWire(m.Pin(4))
    t0 = m.world.clock.us
    ow.reset()
    ow.readinto(bytearray(9))
    assert m.world.clock.us - t0 == 960 + 9 * 8 * 70  # extmod/modonewire.c timings


def test_onewire_shorted_bus(m):
    bus = m.world.onewire(4)
    bus.stuck_low = True
    ow = m.onewire.OneWire(m.Pin(4))
    assert ow.reset() is True and ow.readbyte() == 0


# ---- esp32.PCNT ---------------------------------------------------------------------
def pcnt(m, **kw):
    args = {"pin": m.Pin(5, m.Pin.IN, m.Pin.PULL_UP), "rising": m.esp32.PCNT.IGNORE,
            "falling": m.esp32.PCNT.INCREMENT, "max": 32000}
    args.update(kw)
    return m.esp32.PCNT(0, **args)


def test_pcnt_is_esp32_only():
    assert make_machine("rp2").esp32 is None


def test_pcnt_counts_pin_edges_once_started():
    m = make_machine("esp32")
    w = m.world
    p = pcnt(m)
    w.pulse(5, width_us=50)
    assert p.value() == 0  # a new unit is paused
    p.start()
    for _ in range(3):
        w.pulse(5, width_us=50)
        w.clock.advance_us(50)
    assert p.value() == 3
    assert p.value(0) == 3 and p.value() == 0


def test_pcnt_filter_swallows_glitches():
    m = make_machine("esp32")
    w = m.world
    p = pcnt(m, filter=800)  # 10 us
    p.start()
    w.clock.advance_us(100)
    w.pulse(5, width_us=2)
    assert p.value() == 0 and w.pcnt(0).filtered == 1
    w.pulse(5, width_us=20)
    w.clock.advance_us(20)
    assert p.value() == 1
    w.pcnt(0).pulse(5, width_ns=20000)
    assert p.value() == 6


def test_pcnt_counter_resets_at_max():
    m = make_machine("esp32")
    p = pcnt(m)
    p.start()
    m.world.pcnt(0).pulse(32005)
    assert p.value() == 5


def test_pcnt_arguments():
    m = make_machine("esp32")
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        pcnt(m, bogus=1)
    with pytest.raises(ValueError, match="filter"):
        pcnt(m, filter=1024)
    with pytest.raises(ValueError, match="invalid id"):
        m.esp32.PCNT(8)
