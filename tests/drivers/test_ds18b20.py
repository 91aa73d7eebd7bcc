"""DS18B20 driver against the simulated 1-Wire bus (fake_onewire.py)."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.ds18b20 import DS18B20, PARAMS, parse_rom
from drivers.params import validate
from fake_machine import Clock
from fake_onewire import CONV_US, FakeDS18B20, FakeOneWire, crc8, decode, encode, make_rom


def setup(devices=None, start_us=0, rom=None, **given_params):
    clock = Clock(start_us)
    devs = [FakeDS18B20()] if devices is None else devices
    bus = FakeOneWire(clock, devs)
    drv = DS18B20(bus, validate(PARAMS, given_params, "t_inlet"), rom=rom)
    return clock, bus, devs, drv


def run(clock, bus, drivers, ms):
    """Poll every 10 ms, checking each poll does at most one bus step:
    one reset and a few bytes (the longest is reset + Match ROM + 8 ROM bytes)."""
    if not isinstance(drivers, list):
        drivers = [drivers]
    for _ in range(ms // 10):
        clock.advance_ms(10)
        for drv in drivers:
            resets, written, read = bus.resets, bus.bytes_written, bus.bytes_read
            drv.poll(clock.ticks_ms())
            assert bus.resets - resets <= 1
            assert (bus.bytes_written - written) + (bus.bytes_read - read) <= 10


def assert_reads_after_conversion(bus, bits):
    """Every Read Scratchpad comes at least tCONV after the Convert T before it."""
    events = sorted([(t, 0x44) for t, _ in bus.commands(0x44)]
                    + [(t, 0xBE) for t, _ in bus.commands(0xBE)])
    last_convert = None
    for t, cmd in events:
        if cmd == 0x44:
            last_convert = t
        else:
            assert last_convert is not None
            assert t - last_convert >= CONV_US[bits]


# ---- normal operation ----

@pytest.mark.parametrize("bits", [9, 10, 11, 12])
def test_no_read_before_the_conversion_time_and_steady_cadence(bits):
    clock, bus, (dev,), drv = setup(resolution_bits=bits, period_ms=1000)
    dev.temp_c = 21.5
    assert drv.value is None and drv.fault == 0
    run(clock, bus, drv, 5000)
    assert dev.bits == bits  # the driver configured the resolution
    assert drv.value == 21.5 and drv.fault == 0
    assert 4 <= dev.conversions <= 6
    assert dev.reads <= dev.conversions
    assert_reads_after_conversion(bus, bits)


def test_value_is_none_until_the_first_conversion_is_read():
    clock, bus, (dev,), drv = setup(resolution_bits=12)
    run(clock, bus, drv, 500)
    assert dev.conversions == 1 and dev.reads == 0
    assert drv.value is None and drv.fault == 0


def test_a_new_temperature_comes_from_a_new_conversion():
    clock, bus, (dev,), drv = setup(resolution_bits=12, period_ms=1000)
    dev.temp_c = 10.0
    run(clock, bus, drv, 1000)
    assert drv.value == 10.0
    dev.temp_c = 12.25
    run(clock, bus, drv, 2000)
    assert drv.value == 12.25


def test_back_to_back_conversions_with_period_zero():
    clock, bus, (dev,), drv = setup(resolution_bits=9, period_ms=0)
    run(clock, bus, drv, 2000)
    # 94 ms conversion + a few 10 ms steps per cycle: well over 10 cycles in 2 s
    assert dev.conversions >= 10
    assert_reads_after_conversion(bus, 9)


# Datasheet Table 1 (temperature/data relationship), 12 bit.
DATASHEET = [
    (125.0, 0x07D0), (85.0, 0x0550), (25.0625, 0x0191), (10.125, 0x00A2), (0.5, 0x0008),
    (0.0, 0x0000), (-0.5, 0xFFF8), (-10.125, 0xFF5E), (-25.0625, 0xFE6F), (-55.0, 0xFC90),
]


@pytest.mark.parametrize("temp, raw", [p for p in DATASHEET if p[0] != 85.0])
def test_datasheet_registers_decode_including_negative(temp, raw):
    assert encode(temp, 12) == raw  # the fake agrees with the datasheet
    clock, bus, (dev,), drv = setup(resolution_bits=12)
    dev.temp_c = temp
    run(clock, bus, drv, 1000)
    assert drv.value == temp and drv.fault == 0


def test_undefined_low_bits_are_ignored_below_12_bit():
    clock, bus, (dev,), drv = setup(resolution_bits=9)
    dev.fill_undefined = True
    dev.temp_c = -10.5
    run(clock, bus, drv, 500)
    assert drv.value == -10.5


def test_offset_is_added():
    clock, bus, (dev,), drv = setup(offset_c=-0.25)
    dev.temp_c = 8.0
    run(clock, bus, drv, 1000)
    assert drv.value == 7.75


def test_tick_wraparound():
    start = ((1 << 30) - 400) * 1000  # ticks_ms wraps 400 ms in
    clock, bus, (dev,), drv = setup(start_us=start, resolution_bits=12, period_ms=1000)
    dev.temp_c = 5.0
    run(clock, bus, drv, 4000)
    assert drv.value == 5.0 and drv.fault == 0
    assert dev.conversions >= 3
    assert_reads_after_conversion(bus, 12)


@settings(max_examples=60, deadline=None)
@given(temp=st.floats(-55.0, 125.0), bits=st.integers(9, 12))
def test_round_trip_temperature_register_value(temp, bits):
    raw = encode(temp, bits, fill_undefined=False)
    assume(raw != 0x0550)  # exactly 85.0 degC is the power-on value (own test)
    clock, bus, (dev,), drv = setup(resolution_bits=bits, period_ms=0)
    dev.temp_c = temp
    dev.fill_undefined = True
    run(clock, bus, drv, CONV_US[bits] // 1000 + 100)
    step = 1 / (1 << (bits - 8))
    assert drv.fault == 0
    assert drv.value == decode(raw)
    assert abs(drv.value - temp) <= step / 2


# ---- faults and recovery ----

def good(clock, bus, drv, dev, temp=15.0):
    """Runs long enough for a retry (period_ms 1000), a conversion and a read."""
    dev.temp_c = temp
    run(clock, bus, drv, 2000)
    assert drv.value == temp and drv.fault == 0


def test_missing_sensor_raises_no_sensor_and_recovers():
    clock, bus, (dev,), drv = setup(absent_retries=2)
    good(clock, bus, drv, dev)
    dev.present = False
    run(clock, bus, drv, 1100)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    dev.present = True
    good(clock, bus, drv, dev, 16.0)


def test_a_single_missed_presence_is_debounced():
    clock, bus, (dev,), drv = setup(absent_retries=2, period_ms=0)
    good(clock, bus, drv, dev)
    # Absent for one reset only: the driver retries at once and finds it.
    dev.present = False
    resets = bus.resets
    while bus.resets == resets:
        run(clock, bus, drv, 10)
    dev.present = True
    run(clock, bus, drv, 1000)
    assert drv.fault == 0 and drv.value == 15.0


def test_sensor_back_after_power_loss_is_reconfigured():
    clock, bus, (dev,), drv = setup(resolution_bits=10)
    good(clock, bus, drv, dev)
    dev.present = False
    run(clock, bus, drv, 1100)
    assert drv.fault == alarms.T_NO_SENSOR
    dev.power_cycle()  # back at its EEPROM resolution (12 bit)
    dev.present = True
    good(clock, bus, drv, dev, 17.25)
    assert dev.bits == 10


def test_silent_reset_to_another_resolution_is_read_then_reconfigured():
    # The sensor resets between cycles (no missed presence, no 85 degC read)
    # and comes back at its EEPROM resolution, which converts in time.
    dev = FakeDS18B20(eeprom_bits=9, temp_c=15.5)
    clock, bus, _, drv = setup(devices=[dev], resolution_bits=11, period_ms=1000)
    good(clock, bus, drv, dev, 15.5)
    assert dev.bits == 11
    reads = dev.reads
    while dev.reads == reads:  # right after a read: idle until the next period
        run(clock, bus, drv, 10)
    dev.power_cycle()
    dev.temp_c = 14.75  # 9 bit reads 14.5 or 15.0 (half-degree steps)
    reads = dev.reads
    while dev.reads == reads:
        run(clock, bus, drv, 10)
    assert drv.fault == 0 and drv.value in (14.5, 15.0)
    run(clock, bus, drv, 1500)
    assert dev.bits == 11 and drv.value == 14.75


def test_presence_without_data_is_no_sensor():
    clock, bus, (dev,), drv = setup()
    good(clock, bus, drv, dev)
    dev.mute = True
    run(clock, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    dev.mute = False
    good(clock, bus, drv, dev)


def test_bus_shorted_low_is_no_sensor_not_zero_degrees():
    clock, bus, (dev,), drv = setup()
    good(clock, bus, drv, dev)
    bus.stuck_low = True
    run(clock, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    bus.stuck_low = False
    good(clock, bus, drv, dev)


def test_crc_errors_below_the_retry_count_are_retried_silently():
    clock, bus, (dev,), drv = setup(crc_retries=3)
    good(clock, bus, drv, dev)
    dev.temp_c = 18.0
    conversions = dev.conversions
    dev.corrupt_reads = 2
    run(clock, bus, drv, 1000)
    assert drv.fault == 0 and drv.value == 18.0
    assert dev.corrupt_reads == 0
    assert dev.conversions - conversions <= 2  # retries re-read, they do not re-convert


def test_crc_errors_on_every_retry_raise_crc_and_recover():
    clock, bus, (dev,), drv = setup(crc_retries=3)
    good(clock, bus, drv, dev)
    dev.corrupt_reads = 1000
    reads = dev.reads
    while drv.fault == 0:
        run(clock, bus, drv, 10)
    assert drv.fault == alarms.T_CRC and drv.value is None
    assert dev.reads - reads == 3
    dev.corrupt_reads = 0
    good(clock, bus, drv, dev, 19.0)


def test_two_sensors_with_skip_rom_collide_as_crc_errors():
    clock, bus, devs, drv = setup(devices=[FakeDS18B20(1, 10.0), FakeDS18B20(2, 23.5)])
    run(clock, bus, drv, 3000)
    assert drv.fault == alarms.T_CRC and drv.value is None


def test_power_on_value_after_our_conversion_is_a_fault():
    clock, bus, (dev,), drv = setup(resolution_bits=11)
    good(clock, bus, drv, dev)
    dev.brownout = True  # every conversion resets the sensor
    run(clock, bus, drv, 1100)
    assert drv.fault == alarms.T_POWER_ON and drv.value is None
    dev.brownout = False
    good(clock, bus, drv, dev, 14.5)
    assert dev.bits == 11  # reconfigured after the reset


def test_reset_between_conversion_and_read_is_a_power_on_fault():
    clock, bus, (dev,), drv = setup(resolution_bits=12)
    good(clock, bus, drv, dev)
    conversions = dev.conversions
    while dev.conversions == conversions:
        run(clock, bus, drv, 10)
    dev.power_cycle()
    run(clock, bus, drv, 800)
    assert drv.fault == alarms.T_POWER_ON
    good(clock, bus, drv, dev, 15.0)


def test_exactly_85_degrees_is_reported_as_power_on():
    # Documented limitation: 0x0550 is not distinguishable from the reset value.
    clock, bus, (dev,), drv = setup(resolution_bits=12)
    dev.temp_c = 85.0
    run(clock, bus, drv, 3000)
    assert drv.fault == alarms.T_POWER_ON and drv.value is None
    dev.temp_c = 85.0625
    run(clock, bus, drv, 1500)
    assert drv.fault == 0 and drv.value == 85.0625


def test_value_held_during_debounce_then_none():
    clock, bus, (dev,), drv = setup(crc_retries=5)
    good(clock, bus, drv, dev)
    dev.corrupt_reads = 1000
    reads = dev.reads
    while dev.reads - reads < 4:
        run(clock, bus, drv, 10)
        assert drv.value == 15.0 and drv.fault == 0
    while dev.reads - reads < 5:
        run(clock, bus, drv, 10)
    assert drv.value is None and drv.fault == alarms.T_CRC


# ---- Match ROM ----

def test_match_rom_addresses_each_sensor():
    clock = Clock()
    a, b = FakeDS18B20(0x1111, 4.5), FakeDS18B20(0x2222, 11.75)
    bus = FakeOneWire(clock, [a, b])
    params = validate(PARAMS, {"period_ms": 1000}, "t")
    da = DS18B20(bus, params, rom=a.rom.hex())
    db = DS18B20(bus, params, rom=b.rom.hex())
    for _ in range(300):
        run(clock, bus, [da, db], 10)
        # Sharing the bus, neither may see the other's sensor nor a failure.
        assert da.value in (None, 4.5) and da.fault == 0
        assert db.value in (None, 11.75) and db.fault == 0
    assert (da.value, da.fault) == (4.5, 0)
    assert (db.value, db.fault) == (11.75, 0)
    for _, roms in bus.commands(0xBE) + bus.commands(0x44):
        assert len(roms) == 1  # never more than one sensor selected
    assert {roms[0] for _, roms in bus.commands(0xBE)} == {a.rom, b.rom}
    assert sorted(bytes(r) for r in bus.scan()) == sorted([a.rom, b.rom])


def test_match_rom_sensor_gone_from_a_shared_bus():
    clock = Clock()
    a, b = FakeDS18B20(0x1111, 4.5), FakeDS18B20(0x2222, 11.75)
    bus = FakeOneWire(clock, [a, b])
    drv = DS18B20(bus, validate(PARAMS, {}, "t"), rom=b.rom.hex())
    run(clock, bus, drv, 1100)
    assert drv.value == 11.75
    b.present = False  # a still answers the reset, nobody answers the read
    run(clock, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    b.present = True
    run(clock, bus, drv, 1500)
    assert drv.fault == 0 and drv.value == 11.75


def test_parse_rom():
    rom = make_rom(0xABCDEF)
    assert parse_rom(rom.hex(), crc8) == rom
    assert parse_rom(rom.hex().upper(), crc8) == rom
    assert parse_rom(bytearray(rom), crc8) == rom
    bad = [rom.hex()[:14], rom.hex() + "00", "zz" + rom.hex()[2:], rom[::-1].hex(),
           make_rom(5, family=0x10).hex(), 12345]
    for text in bad:
        with pytest.raises(ConfigError) as exc:
            parse_rom(text, crc8)
        assert exc.value.key == "rom"


def test_params_table_is_well_formed():
    params = validate(PARAMS, {}, "t")
    assert params["resolution_bits"] == 12
    with pytest.raises(ConfigError):
        validate(PARAMS, {"resolution_bits": 8}, "t")
