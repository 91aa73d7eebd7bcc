"""DS18B20 driver on the twin's onewire.OneWire, with DS18B20 models on the board's
1-Wire bus (host_tools.twins.onewire): bit slots and resets take their time."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.ds18b20 import DS18B20, PARAMS, parse_rom
from drivers.params import validate
from host_tools.twins import make_machine
from host_tools.twins.onewire import CONV_US, RESET_US, SLOT_US, crc8, decode, encode, make_rom
from host_tools.twins.onewire import DS18B20 as SensorModel
from twin_io import machine_io, profile_pin

POLL_US = 10_000
# One bus step per poll: a reset and a few bytes (the longest is reset + Match
# ROM + 8 ROM bytes); the 1-Wire slots block the poll for their time.
MAX_BYTES = 10


class Rig:
    """A board's 1-Wire pin (from its profile) with sensor models on the wire and
    the bus object the board HAL gives the driver (MachineIO.onewire)."""

    def __init__(self, port, devices, start_us=0):
        self.m = make_machine(port)
        self.w = self.m.world
        self.clock = self.w.clock
        self.clock.advance_us(start_us)
        pin = profile_pin(port, "ds18b20.onewire")
        self.bus = self.w.onewire(pin)
        for dev in devices:
            self.bus.attach(dev)
        self.ow = machine_io(self.m).onewire(pin)
        self.next_us = self.clock.us


def setup(port, devices=None, start_us=0, rom=None, **given_params):
    devs = [SensorModel()] if devices is None else devices
    rig = Rig(port, devs, start_us)
    drv = DS18B20(rig.ow, validate(PARAMS, given_params, "t_inlet"), rom=rom)
    return rig, rig.bus, devs, drv


def run(rig, bus, drivers, ms):
    """Poll every 10 ms, checking each poll does at most one bus step:
    one reset and a few bytes, which is what the poll may block for."""
    if not isinstance(drivers, list):
        drivers = [drivers]
    clock = rig.clock
    for _ in range(ms // 10):
        rig.next_us += POLL_US
        clock.advance_to(rig.next_us)
        for drv in drivers:
            resets, t0 = bus.resets, clock.us
            drv.poll(clock.ticks_ms())
            n_resets = bus.resets - resets
            assert n_resets <= 1
            # the rest of the time blocked is bit slots: at most ten bytes' worth
            assert clock.us - t0 - n_resets * RESET_US <= MAX_BYTES * 8 * SLOT_US


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
def test_no_read_before_the_conversion_time_and_steady_cadence(port, bits):
    rig, bus, (dev,), drv = setup(port, resolution_bits=bits, period_ms=1000)
    dev.temp_c = 21.5
    assert drv.value is None and drv.fault == 0
    run(rig, bus, drv, 5000)
    assert dev.bits == bits  # the driver configured the resolution
    assert drv.value == 21.5 and drv.fault == 0
    assert 4 <= dev.conversions <= 6
    assert dev.reads <= dev.conversions
    assert_reads_after_conversion(bus, bits)


def test_value_is_none_until_the_first_conversion_is_read(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=12)
    run(rig, bus, drv, 500)
    assert dev.conversions == 1 and dev.reads == 0
    assert drv.value is None and drv.fault == 0


def test_a_new_temperature_comes_from_a_new_conversion(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=12, period_ms=1000)
    dev.temp_c = 10.0
    run(rig, bus, drv, 1000)
    assert drv.value == 10.0
    dev.temp_c = 12.25
    run(rig, bus, drv, 2000)
    assert drv.value == 12.25


def test_back_to_back_conversions_with_period_zero(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=9, period_ms=0)
    run(rig, bus, drv, 2000)
    # 94 ms conversion + a few 10 ms steps per cycle: well over 10 cycles in 2 s
    assert dev.conversions >= 10
    assert_reads_after_conversion(bus, 9)


# Datasheet Table 1 (temperature/data relationship), 12 bit.
DATASHEET = [
    (125.0, 0x07D0), (85.0, 0x0550), (25.0625, 0x0191), (10.125, 0x00A2), (0.5, 0x0008),
    (0.0, 0x0000), (-0.5, 0xFFF8), (-10.125, 0xFF5E), (-25.0625, 0xFE6F), (-55.0, 0xFC90),
]


@pytest.mark.parametrize("temp, raw", [p for p in DATASHEET if p[0] != 85.0])
def test_datasheet_registers_decode_including_negative(port, temp, raw):
    assert encode(temp, 12) == raw  # the sensor model agrees with the datasheet
    rig, bus, (dev,), drv = setup(port, resolution_bits=12)
    dev.temp_c = temp
    run(rig, bus, drv, 1000)
    assert drv.value == temp and drv.fault == 0


def test_undefined_low_bits_are_ignored_below_12_bit(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=9)
    dev.fill_undefined = True
    dev.temp_c = -10.5
    run(rig, bus, drv, 500)
    assert drv.value == -10.5


def test_offset_is_added(port):
    rig, bus, (dev,), drv = setup(port, offset_c=-0.25)
    dev.temp_c = 8.0
    run(rig, bus, drv, 1000)
    assert drv.value == 7.75


def test_tick_wraparound(port):
    start = ((1 << 30) - 400) * 1000  # ticks_ms wraps 400 ms in
    rig, bus, (dev,), drv = setup(port, start_us=start, resolution_bits=12, period_ms=1000)
    dev.temp_c = 5.0
    run(rig, bus, drv, 4000)
    assert drv.value == 5.0 and drv.fault == 0
    assert dev.conversions >= 3
    assert_reads_after_conversion(bus, 12)


@settings(max_examples=60, deadline=None)
@given(temp=st.floats(-55.0, 125.0), bits=st.integers(9, 12))
def test_round_trip_temperature_register_value(port, temp, bits):
    raw = encode(temp, bits, fill_undefined=False)
    assume(raw != 0x0550)  # exactly 85.0 degC is the power-on value (own test)
    rig, bus, (dev,), drv = setup(port, resolution_bits=bits, period_ms=0)
    dev.temp_c = temp
    dev.fill_undefined = True
    run(rig, bus, drv, CONV_US[bits] // 1000 + 100)
    step = 1 / (1 << (bits - 8))
    assert drv.fault == 0
    assert drv.value == decode(raw)
    assert abs(drv.value - temp) <= step / 2


# ---- faults and recovery ----

def good(rig, bus, drv, dev, temp=15.0):
    """Runs long enough for a retry (period_ms 1000), a conversion and a read."""
    dev.temp_c = temp
    run(rig, bus, drv, 2000)
    assert drv.value == temp and drv.fault == 0


def test_missing_sensor_raises_no_sensor_and_recovers(port):
    rig, bus, (dev,), drv = setup(port, absent_retries=2)
    good(rig, bus, drv, dev)
    dev.present = False
    run(rig, bus, drv, 1100)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    dev.present = True
    good(rig, bus, drv, dev, 16.0)


def test_a_single_missed_presence_is_debounced(port):
    rig, bus, (dev,), drv = setup(port, absent_retries=2, period_ms=0)
    good(rig, bus, drv, dev)
    # Absent for one reset only: the driver retries at once and finds it.
    dev.present = False
    resets = bus.resets
    while bus.resets == resets:
        run(rig, bus, drv, 10)
    dev.present = True
    run(rig, bus, drv, 1000)
    assert drv.fault == 0 and drv.value == 15.0


def test_sensor_back_after_power_loss_is_reconfigured(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=10)
    good(rig, bus, drv, dev)
    dev.present = False
    run(rig, bus, drv, 1100)
    assert drv.fault == alarms.T_NO_SENSOR
    dev.power_cycle()  # back at its EEPROM resolution (12 bit)
    dev.present = True
    good(rig, bus, drv, dev, 17.25)
    assert dev.bits == 10


def test_silent_reset_to_another_resolution_is_read_then_reconfigured(port):
    # The sensor resets between cycles (no missed presence, no 85 degC read)
    # and comes back at its EEPROM resolution, which converts in time.
    dev = SensorModel(eeprom_bits=9, temp_c=15.5)
    rig, bus, _, drv = setup(port, devices=[dev], resolution_bits=11, period_ms=1000)
    good(rig, bus, drv, dev, 15.5)
    assert dev.bits == 11
    reads = dev.reads
    while dev.reads == reads:  # right after a read: idle until the next period
        run(rig, bus, drv, 10)
    dev.power_cycle()
    dev.temp_c = 14.75  # 9 bit reads 14.5 or 15.0 (half-degree steps)
    reads = dev.reads
    while dev.reads == reads:
        run(rig, bus, drv, 10)
    assert drv.fault == 0 and drv.value in (14.5, 15.0)
    run(rig, bus, drv, 1500)
    assert dev.bits == 11 and drv.value == 14.75


def test_presence_without_data_is_no_sensor(port):
    rig, bus, (dev,), drv = setup(port)
    good(rig, bus, drv, dev)
    dev.mute = True
    run(rig, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    dev.mute = False
    good(rig, bus, drv, dev)


def test_bus_shorted_low_is_no_sensor_not_zero_degrees(port):
    rig, bus, (dev,), drv = setup(port)
    good(rig, bus, drv, dev)
    bus.stuck_low = True
    run(rig, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    bus.stuck_low = False
    good(rig, bus, drv, dev)


def test_crc_errors_below_the_retry_count_are_retried_silently(port):
    rig, bus, (dev,), drv = setup(port, crc_retries=3)
    good(rig, bus, drv, dev)
    dev.temp_c = 18.0
    conversions = dev.conversions
    dev.corrupt_reads = 2
    run(rig, bus, drv, 1000)
    assert drv.fault == 0 and drv.value == 18.0
    assert dev.corrupt_reads == 0
    assert dev.conversions - conversions <= 2  # retries re-read, they do not re-convert


def test_crc_errors_on_every_retry_raise_crc_and_recover(port):
    rig, bus, (dev,), drv = setup(port, crc_retries=3)
    good(rig, bus, drv, dev)
    dev.corrupt_reads = 1000
    reads = dev.reads
    while drv.fault == 0:
        run(rig, bus, drv, 10)
    assert drv.fault == alarms.T_CRC and drv.value is None
    assert dev.reads - reads == 3
    dev.corrupt_reads = 0
    good(rig, bus, drv, dev, 19.0)


def test_two_sensors_with_skip_rom_collide_as_crc_errors(port):
    rig, bus, devs, drv = setup(port, devices=[SensorModel(1, 10.0), SensorModel(2, 23.5)])
    run(rig, bus, drv, 3000)
    assert drv.fault == alarms.T_CRC and drv.value is None


def test_power_on_value_after_our_conversion_is_a_fault(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=11)
    good(rig, bus, drv, dev)
    dev.brownout = True  # every conversion resets the sensor
    run(rig, bus, drv, 1100)
    assert drv.fault == alarms.T_POWER_ON and drv.value is None
    dev.brownout = False
    good(rig, bus, drv, dev, 14.5)
    assert dev.bits == 11  # reconfigured after the reset


def test_reset_between_conversion_and_read_is_a_power_on_fault(port):
    rig, bus, (dev,), drv = setup(port, resolution_bits=12)
    good(rig, bus, drv, dev)
    conversions = dev.conversions
    while dev.conversions == conversions:
        run(rig, bus, drv, 10)
    dev.power_cycle()
    run(rig, bus, drv, 800)
    assert drv.fault == alarms.T_POWER_ON
    good(rig, bus, drv, dev, 15.0)


def test_exactly_85_degrees_is_reported_as_power_on(port):
    # Documented limitation: 0x0550 is not distinguishable from the reset value.
    rig, bus, (dev,), drv = setup(port, resolution_bits=12)
    dev.temp_c = 85.0
    run(rig, bus, drv, 3000)
    assert drv.fault == alarms.T_POWER_ON and drv.value is None
    dev.temp_c = 85.0625
    run(rig, bus, drv, 1500)
    assert drv.fault == 0 and drv.value == 85.0625


def test_value_held_during_debounce_then_none(port):
    rig, bus, (dev,), drv = setup(port, crc_retries=5)
    good(rig, bus, drv, dev)
    dev.corrupt_reads = 1000
    reads = dev.reads
    while dev.reads - reads < 4:
        run(rig, bus, drv, 10)
        assert drv.value == 15.0 and drv.fault == 0
    while dev.reads - reads < 5:
        run(rig, bus, drv, 10)
    assert drv.value is None and drv.fault == alarms.T_CRC


# ---- Match ROM ----

def test_match_rom_addresses_each_sensor(port):
    a, b = SensorModel(0x1111, 4.5), SensorModel(0x2222, 11.75)
    rig = Rig(port, [a, b])
    bus = rig.bus
    params = validate(PARAMS, {"period_ms": 1000}, "t")
    da = DS18B20(rig.ow, params, rom=a.rom.hex())
    db = DS18B20(rig.ow, params, rom=b.rom.hex())
    for _ in range(300):
        run(rig, bus, [da, db], 10)
        # Sharing the bus, neither may see the other's sensor nor a failure.
        assert da.value in (None, 4.5) and da.fault == 0
        assert db.value in (None, 11.75) and db.fault == 0
    assert (da.value, da.fault) == (4.5, 0)
    assert (db.value, db.fault) == (11.75, 0)
    for _, roms in bus.commands(0xBE) + bus.commands(0x44):
        assert len(roms) == 1  # never more than one sensor selected
    assert {roms[0] for _, roms in bus.commands(0xBE)} == {a.rom, b.rom}
    assert sorted(bytes(r) for r in rig.ow.scan()) == sorted([a.rom, b.rom])


def test_match_rom_sensor_gone_from_a_shared_bus(port):
    a, b = SensorModel(0x1111, 4.5), SensorModel(0x2222, 11.75)
    rig = Rig(port, [a, b])
    bus = rig.bus
    drv = DS18B20(rig.ow, validate(PARAMS, {}, "t"), rom=b.rom.hex())
    run(rig, bus, drv, 1100)
    assert drv.value == 11.75
    b.present = False  # a still answers the reset, nobody answers the read
    run(rig, bus, drv, 2000)
    assert drv.fault == alarms.T_NO_SENSOR and drv.value is None
    b.present = True
    run(rig, bus, drv, 1500)
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
