"""MAX31865 RTD driver: Callendar-Van Dusen conversion, register traffic, non-blocking
cadence, fault mapping and recovery, configuration checks, no allocation in poll."""

import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.max31865 import MAX31865, PARAMS
from drivers.params import validate
from fake_max31865 import (
    F_OVUV,
    F_REFIN_HIGH,
    F_REFIN_LOW,
    F_RTD_HIGH,
    F_RTD_LOW,
    F_RTDIN_LOW,
    FakeMAX31865,
)
from host_tools.twins import make_machine
from mp_probe import run_probe
from twin_io import machine_io, profile_pin

TICKS_MASK = (1 << 30) - 1
NEAR_WRAP = (1 << 30) - 2500  # the driver's ticks wrap a few readings in

# IEC 60751 coefficients, written out again so the reference below does not
# share code with the driver.
A, B, C = 3.9083e-3, -5.775e-7, -4.183e-12
SENSORS = {"pt100": (100.0, 430.0), "pt1000": (1000.0, 4300.0)}


def r_cvd(t, r0):
    """RTD resistance at t degC (IEC 60751)."""
    x = 1.0 + A * t + B * t * t
    if t < 0.0:
        x += C * (t - 100.0) * t ** 3
    return r0 * x


def t_cvd(r, r0):
    """Inverse of r_cvd by bisection (independent of the driver's method)."""
    lo, hi = -210.0, 860.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if r_cvd(mid, r0) < r:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class Rig:
    """A board with a MAX31865 on its profile's SPI bus behind the profile's CS
    pin, and the bus and CS pin the board HAL gives the driver."""

    def __init__(self, port, chip=None, start_us=0, **chip_kw):
        self.m = m = make_machine(port)
        self.w = m.world
        self.clock = self.w.clock
        self.clock.advance_us(start_us)
        self.chip = chip if chip is not None else FakeMAX31865(**chip_kw)
        self.chip.clock = self.clock
        pin = {role: profile_pin(port, "max31865." + role)
               for role in ("spi", "sck", "mosi", "miso", "cs")}
        self.cs_pin = pin["cs"]
        io = machine_io(m)
        self.spi = io.spi(pin["spi"], pin["sck"], pin["mosi"], pin["miso"])
        self.cs = io.pin_out(pin["cs"], 1)
        end = self.w.spi(pin["spi"])
        end.attach(self.chip, cs=pin["cs"])
        self.chip.spi_end = end

    def cs_level(self):
        return self.w.level(self.cs_pin)

    def cs_writes(self):
        return self.w.writes(self.cs_pin)


class Bench(Rig):
    """A driver wired to a chip on a board; `run` polls it every 10 ms slice.
    Each poll runs `jitter` ms into its slice on the board's clock (the driver
    only sees the slice start), as on a board where other work runs first."""

    def __init__(self, port, start=NEAR_WRAP, seed=None, chip_kw=None, **given_params):
        params = validate(PARAMS, {"period_ms": 1000, **given_params}, "temperature")
        self.params = params
        super().__init__(port, start_us=start * 1000, r_ref=params["r_ref_ohm"],
                         resistance_ohm=params["r_nominal_ohm"], **(chip_kw or {}))
        self.cs_set_up = len(self.cs_writes())  # what the HAL's pin_out wrote
        self.drv = MAX31865(self.spi, self.cs, params)
        self.t = 0  # ms since the start, the real time of each slice start
        self.start = start
        self.rng = random.Random(seed) if seed is not None else None

    def poll(self):
        jitter = self.rng.uniform(0.0, 9.9) if self.rng else 0.0
        slice_us = (self.start + self.t) * 1000
        self.clock.advance_to(slice_us + jitter * 1000)
        self.drv.poll((self.start + self.t) & TICKS_MASK)
        assert self.cs_level() == 1, "CS left low after poll"
        self.t += 10

    def run(self, ms):
        for _ in range(ms // 10):
            self.poll()

    def reading(self):
        """Poll until the driver has finished one more reading: the burst read
        and the bias-off write that follows it in the same poll."""
        log = self.chip.log
        for _ in range(1000):
            n = len(log)
            self.poll()
            if (len(log) > n and len(log) >= 2 and log[-2][0] == 0x00
                    and log[-1][0] == 0x80 and not log[-1][1] & 0x80):
                return self.drv.value
        raise AssertionError("no reading within 10 s")

    def set_temperature(self, t):
        self.chip.resistance_ohm = r_cvd(t, self.params["r_nominal_ohm"])


def temperature_of_code(drv, code):
    return drv.temperature(drv.resistance(code))


# ---- conversion ----

@settings(max_examples=150, deadline=None)
@given(sensor=st.sampled_from(sorted(SENSORS)), t=st.floats(-50.0, 150.0))
def test_round_trip_temperature_resistance_code_temperature(port, sensor, t):
    r0, r_ref = SENSORS[sensor]
    bench = Bench(port, r_nominal_ohm=r0, r_ref_ohm=r_ref)
    bench.set_temperature(t)
    value = bench.reading()
    assert bench.drv.fault == 0 and not bench.chip.violations
    code = bench.drv.code
    lsb = r_ref / 32768
    assert code == round(r_cvd(t, r0) / lsb)
    # t lies in its code's half-LSB interval; the reading is that code's own
    # temperature, so the error is bounded by the interval's width in degC.
    lo, hi = (t_cvd((code + d) * lsb, r0) for d in (-0.5, 0.5))
    assert lo - 1e-9 <= t <= hi + 1e-9
    assert value == pytest.approx(t_cvd(code * lsb, r0), abs=1e-7)
    assert abs(value - t) <= hi - lo + 1e-7
    assert hi - lo < 0.04  # PT100/430 ohm: about 0.034 degC per code


@settings(max_examples=200, deadline=None)
@given(sensor=st.sampled_from(sorted(SENSORS)), a=st.integers(1412, 29756),
       b=st.integers(1412, 29756))
def test_temperature_rises_with_the_code(port, sensor, a, b):
    # 1412..29756: the valid band for both (same r_ref / r_nominal ratio)
    assume(a != b)
    c1, c2 = min(a, b), max(a, b)
    r0, r_ref = SENSORS[sensor]
    bench = Bench(port, r_nominal_ohm=r0, r_ref_ohm=r_ref, fault_reads=1)
    drv = bench.drv
    assert drv.code_low < c1 < c2 < drv.code_high
    bench.chip.code = c1
    v1 = bench.reading()
    bench.chip.code = c2
    v2 = bench.reading()
    assert v1 is not None and v2 is not None
    assert v1 < v2


@pytest.mark.parametrize("sensor", sorted(SENSORS))
def test_strictly_monotonic_over_every_valid_code(port, sensor):
    r0, r_ref = SENSORS[sensor]
    drv = Bench(port, r_nominal_ohm=r0, r_ref_ohm=r_ref).drv
    prev = -math.inf
    for code in range(drv.code_low + 1, drv.code_high):
        t = temperature_of_code(drv, code)
        assert t > prev, code
        prev = t
    # The valid band spans the equation's range, -200..+850 degC (or up to
    # what the reference resistor allows).
    assert temperature_of_code(drv, drv.code_low + 1) == pytest.approx(-200.0, abs=0.1)
    assert prev > 150.0


def test_inverse_matches_the_equation_over_its_whole_range(port):
    drv = Bench(port).drv
    for i in range(10501):
        t = -200.0 + i * 0.1
        assert drv.temperature(r_cvd(t, 100.0)) == pytest.approx(t, abs=1e-9)


@pytest.mark.parametrize("t,r", [(-200, 18.52), (-100, 60.26), (-50, 80.31), (0, 100.00),
                                 (25, 109.73), (50, 119.40), (100, 138.51), (150, 157.33),
                                 (400, 247.09), (850, 390.48)])
def test_iec_60751_table_points(port, t, r):
    drv = Bench(port).drv
    # The table gives ohms to 0.01: at most 0.005 ohm / 0.0039 ohm/K = 0.014 degC.
    assert drv.temperature(r) == pytest.approx(t, abs=0.015)
    drv1000 = Bench(port, r_nominal_ohm=1000.0, r_ref_ohm=4300.0).drv
    assert drv1000.temperature(r * 10) == pytest.approx(t, abs=0.015)


def test_datasheet_example_pt100_with_400_ohm_reference(port):
    # MAX31865 datasheet Table 9: 275 degC, 203.11 ohm, ADC code 16639 with RREF 400 ohm.
    bench = Bench(port, r_ref_ohm=400.0)
    bench.chip.code = 16639
    assert bench.reading() == pytest.approx(275.0, abs=0.02)
    assert bench.drv.resistance_ohm == pytest.approx(203.11, abs=0.01)


def test_offset_is_added(port):
    bench = Bench(port, offset_c=1.25)
    bench.set_temperature(20.0)
    assert bench.reading() == pytest.approx(21.25, abs=0.04)


def test_no_value_before_the_first_reading(port):
    bench = Bench(port)
    assert bench.drv.value is None and bench.drv.fault == 0
    assert bench.drv.resistance_ohm is None
    bench.run(100)
    assert bench.drv.value is None  # converting, nothing read yet


# ---- register traffic ----

@pytest.mark.parametrize("wires,base_wires", [("2", 0x00), ("3", 0x10), ("4", 0x00)])
@pytest.mark.parametrize("filter_hz,base_filter", [("50", 0x01), ("60", 0x00)])
def test_register_traffic_of_init_and_one_reading(port, wires, base_wires, filter_hz, base_filter):
    bench = Bench(port, wires=wires, filter_hz=filter_hz)
    bench.reading()
    base = base_wires | base_filter
    log = bench.chip.log
    assert log[0] == bytes((0x80, base | 0x02))  # config: bias off, clear the fault status
    assert log[1][0] == 0x83 and len(log[1]) == 5  # both thresholds in one burst
    assert log[2:] == [
        bytes((0x80, base | 0x80)),  # VBIAS on
        bytes((0x80, base | 0x88)),  # manual fault cycle, first half
        bytes((0x80, base | 0x8C)),  # second half
        bytes((0x80, base | 0xA0)),  # 1-shot (VBIAS still on, fault cycle bits 00)
        bytes(9),  # read address 0x00: all eight registers
        bytes((0x80, base)),  # VBIAS off; no fault status to clear
    ]
    assert bench.chip.violations == []
    # The next reading repeats the cycle without the init writes.
    n = len(log)
    bench.reading()
    assert log[n:] == log[2:8]


@pytest.mark.parametrize("sensor", sorted(SENSORS))
def test_thresholds_written_are_the_ends_of_the_equation_range(port, sensor):
    r0, r_ref = SENSORS[sensor]
    bench = Bench(port, r_nominal_ohm=r0, r_ref_ohm=r_ref)
    bench.poll()
    thr = bench.chip.log[1]
    high = ((thr[1] << 8) | thr[2]) >> 1
    low = ((thr[3] << 8) | thr[4]) >> 1
    assert (high, low) == (bench.drv.code_high, bench.drv.code_low)
    lsb = r_ref / 32768
    # low: the last code at or below R(-200 degC); high: the first one above R(850 degC)
    assert low * lsb <= r_cvd(-200, r0) < (low + 1) * lsb
    assert (high - 1) * lsb <= r_cvd(850, r0) < high * lsb
    assert thr[2] & 1 == 0 and thr[4] & 1 == 0


def test_cs_frames_every_transfer_and_ends_high(port):
    bench = Bench(port)
    bench.run(5000)
    chip = bench.chip
    assert chip.violations == []
    # the driver's constructor: 1 (idle); then low/high around each transaction,
    # nothing else
    writes = bench.cs_writes()[bench.cs_set_up:]
    assert writes[0] == 1
    pairs = writes[1:]
    assert pairs == [0, 1] * len(chip.log)
    assert len(chip.log) == 2 + 6 * chip.conversions


def test_cs_goes_high_even_when_the_spi_call_fails(port):
    bench = Bench(port)
    bench.reading()

    def broken(*_args):
        raise OSError(5)

    bench.spi.write = broken
    bench.spi.write_readinto = broken
    with pytest.raises(OSError):
        for _ in range(200):
            bench.poll()
    assert bench.cs_level() == 1


def test_the_chip_needs_spi_mode_1_as_the_hal_sets_it(port):
    bench = Bench(port)
    bench.reading()
    assert bench.chip.violations == []  # MachineIO.spi: polarity 0, phase 1
    bench.spi.init(phase=0)  # mode 0: the chip would sample on the wrong edge
    bench.reading()
    assert "SPI phase 0: the MAX31865 needs CPHA = 1" in bench.chip.violations


def test_bias_is_off_between_readings(port):
    bench = Bench(port, period_ms=1000)
    bench.reading()
    for _ in range(85):
        bench.poll()
        assert not bench.chip.bias
    bench.run(10000)
    # about 140 ms of bias per 1 s reading: a seventh of auto mode's self-heating
    assert bench.chip.bias_ms < 0.2 * bench.t


# ---- non-blocking cadence ----

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1 << 30), start=st.integers(0, TICKS_MASK),
       filter_hz=st.sampled_from(["50", "60"]), period=st.sampled_from([0, 150, 1000, 2500]))
def test_never_reads_before_the_conversion_is_done(port, seed, start, filter_hz, period):
    bench = Bench(port, start=start, seed=seed, filter_hz=filter_hz, period_ms=period)
    bench.run(6000)
    chip = bench.chip
    assert chip.violations == []  # settling and fault-cycle timing held too
    assert chip.early_rtd_reads == 0
    assert chip.conversions >= 2
    reads = sum(1 for tx in chip.log if tx[0] == 0x00)
    assert reads in (chip.conversions, chip.conversions - 1)  # the last may be running
    assert bench.drv.value == pytest.approx(0.0, abs=0.04)
    if period >= 1000:
        assert chip.conversions in (6000 // period, 6000 // period + 1)


def test_back_to_back_readings_take_about_140_ms(port):
    bench = Bench(port, period_ms=0)
    bench.run(1400)
    assert 9 <= bench.chip.conversions <= 11


def test_slow_conversion_is_read_again_not_used_stale(port):
    bench = Bench(port, fault_reads=1)
    bench.chip.code = 8000
    old = bench.reading()
    bench.chip.code = 9000
    bench.chip.extra_conv_ms = 25.0  # 87.5 ms instead of the datasheet's 62.5
    values = set()
    n = bench.chip.conversions
    while bench.chip.conversions == n or bench.chip.bias:
        bench.poll()
        values.add(bench.drv.value)
    assert bench.chip.early_rtd_reads > 0  # it did read while D5 was still set...
    assert values == {old, temperature_of_code(bench.drv, 9000)}  # ...and discarded it
    assert bench.drv.fault == 0


def test_a_conversion_that_never_ends_is_a_missing_converter(port):
    bench = Bench(port, fault_reads=1)
    bench.reading()
    bench.chip.extra_conv_ms = 1e9
    assert bench.reading() is None
    assert bench.chip.early_rtd_reads > 0  # read again while D5 stayed set, then gave up
    assert bench.drv.fault == alarms.T_NO_SENSOR and bench.drv.value is None


# ---- faults ----

def good_value(bench):
    return bench.reading()


@pytest.mark.parametrize("cause,status_bit,alarm", [
    ("open", F_RTD_HIGH, alarms.T_OPEN),  # element open: full scale
    ("too_high", F_RTD_HIGH, alarms.T_OPEN),  # above R(850 degC) but not full scale
    ("short", F_RTD_LOW, alarms.T_SHORT),  # element shorted: near zero
    ("too_low", F_RTD_LOW, alarms.T_SHORT),  # below R(-200 degC)
    ("refin_high", F_REFIN_HIGH, alarms.T_OPEN),  # no current with FORCE- closed
    ("refin_low", F_REFIN_LOW, alarms.T_SHORT),  # lead pulled to GND, FORCE- switch open
    ("rtdin_low", F_RTDIN_LOW, alarms.T_SHORT),  # lead pulled to GND, FORCE- switch open
    ("ovuv", F_OVUV, alarms.T_SHORT),  # lead touching a voltage outside GND..VDD
])
@pytest.mark.parametrize("sensor", sorted(SENSORS))
def test_fault_status_bits_map_clear_and_recover(port, cause, status_bit, alarm, sensor):
    r0, r_ref = SENSORS[sensor]
    bench = Bench(port, r_nominal_ohm=r0, r_ref_ohm=r_ref, fault_reads=1)
    chip = bench.chip
    bench.set_temperature(10.0)
    good = good_value(bench)
    assert good == pytest.approx(10.0, abs=0.04)
    if cause == "open":
        chip.resistance_ohm = float("inf")
    elif cause == "too_high":
        chip.resistance_ohm = r0 * 3.95
    elif cause == "short":
        chip.resistance_ohm = 0.5
    elif cause == "too_low":
        chip.resistance_ohm = r0 * 0.18
    elif cause == "ovuv":
        chip.overvoltage = True
    else:
        chip.fault_cycle_bits = status_bit
    assert bench.reading() is None
    assert bench.drv.fault == alarm
    assert bench.drv.status == status_bit
    # The driver cleared the latched status right after reading it, with bias off.
    base = 0x01
    assert chip.log[-1] == bytes((0x80, base | 0x02))
    assert chip.regs[7] == (F_OVUV if cause == "ovuv" else 0)
    # Still there: still faulted. Gone: one good read clears it.
    assert bench.reading() is None and bench.drv.fault == alarm
    chip.overvoltage = False
    chip.fault_cycle_bits = 0
    bench.set_temperature(20.0)
    if cause == "ovuv":
        # D2 latched again when it was cleared while the cause was there; that
        # latched bit is read (and cleared) with the next reading.
        assert bench.reading() is None and bench.drv.fault == alarm
    assert bench.reading() == pytest.approx(20.0, abs=0.04)
    assert bench.drv.fault == 0 and bench.drv.status == 0
    assert chip.log[-1] == bytes((0x80, base))  # nothing to clear
    assert chip.violations == []


def test_open_and_short_bits_together_report_both(port):
    bench = Bench(port, fault_reads=1)
    bench.reading()
    bench.chip.resistance_ohm = float("inf")
    bench.chip.overvoltage = True
    bench.reading()
    assert bench.drv.fault == alarms.T_OPEN | alarms.T_SHORT


@pytest.mark.parametrize("code,alarm", [(0, alarms.T_SHORT), (0x7FFF, alarms.T_OPEN)])
def test_rail_codes_are_faults_even_without_status_bits(port, code, alarm, monkeypatch):
    bench = Bench(port, fault_reads=1)
    bench.reading()
    chip = bench.chip
    # A chip whose threshold comparison did not fire (thresholds at POR
    # values would do that, but are caught earlier): the code alone decides.
    monkeypatch.setattr(chip, "_convert", lambda: _convert_without_status(chip, code))
    assert bench.reading() is None
    assert bench.drv.fault == alarm and bench.drv.status == 0


def _convert_without_status(chip, code):
    chip.conversions += 1
    chip.regs[1] = (code << 1) >> 8
    chip.regs[2] = (code << 1) & 0xFF


@settings(max_examples=100, deadline=None)
@given(reads=st.lists(st.sampled_from(["good", "open", "short"]), min_size=1, max_size=12),
       n=st.integers(1, 4))
def test_fault_needs_n_consecutive_bad_reads_and_clears_after_one_good(port, reads, n):
    bench = Bench(port, fault_reads=n, period_ms=0)
    bad_run = 0
    last_good = None
    for i, kind in enumerate(reads):
        t = 5.0 + i
        if kind == "good":
            bench.set_temperature(t)
        else:
            bench.chip.resistance_ohm = float("inf") if kind == "open" else 0.0
        value = bench.reading()
        if kind == "good":
            bad_run = 0
            last_good = value
            assert value == pytest.approx(t, abs=0.04)
            assert bench.drv.fault == 0
        else:
            bad_run += 1
            if bad_run >= n:
                assert bench.drv.fault == (alarms.T_OPEN if kind == "open" else alarms.T_SHORT)
                assert value is None
            else:
                assert bench.drv.fault == 0
                assert value == last_good  # held while debouncing (None before any)


@pytest.mark.parametrize("idle", [0xFF, 0x00])
def test_missing_converter_is_no_sensor_and_recovers(port, idle):
    bench = Bench(port, fault_reads=2)
    chip = bench.chip
    good = bench.reading()
    chip.present = False
    chip.miso_idle = idle
    assert bench.reading() == good and bench.drv.fault == 0  # one bad read: debouncing
    bench.reading()
    assert bench.drv.fault == alarms.T_NO_SENSOR and bench.drv.value is None
    # Back: configured again from scratch (its registers are at power-on values).
    chip.power_cycle()
    chip.present = True
    n = len(chip.log)
    bench.set_temperature(30.0)
    bench.run(3000)
    assert bench.drv.fault == 0
    assert bench.drv.value == pytest.approx(30.0, abs=0.04)
    assert any(tx[0] == 0x83 for tx in chip.log[n:])  # thresholds rewritten
    assert chip.violations == []


def test_converter_reset_is_reconfigured_without_a_fault(port):
    bench = Bench(port, fault_reads=2)
    chip = bench.chip
    bench.set_temperature(12.0)
    bench.reading()
    chip.power_cycle()  # a brown-out between readings: thresholds back to POR values
    bench.set_temperature(13.0)
    bench.reading()
    assert bench.drv.fault == 0
    assert bench.drv.value == pytest.approx(12.0, abs=0.04)  # that reading was not used
    bench.run(1000)
    bench.reading()
    assert bench.drv.value == pytest.approx(13.0, abs=0.04)
    assert [tx[0] for tx in chip.log].count(0x83) == 2


# ---- configuration ----

@pytest.mark.parametrize("given_params", [
    {"r_nominal_ohm": 1000.0, "r_ref_ohm": 430.0},  # r_ref below r_nominal
    {"r_nominal_ohm": 100.0, "r_ref_ohm": 150.0},  # a PT100 at 150 degC reads open
    {"r_nominal_ohm": 100.0, "r_ref_ohm": 4300.0},  # PT1000 board with a PT100: 0.34 degC/code
])
def test_reference_resistor_cross_checks(port, given_params):
    params = validate(PARAMS, given_params, "temperature")
    rig = Rig(port)
    with pytest.raises(ConfigError) as exc:
        MAX31865(rig.spi, rig.cs, params)
    assert exc.value.key == "r_ref_ohm"
    assert rig.chip.log == []  # nothing touched the bus


@pytest.mark.parametrize("name,value", [("wires", "5"), ("wires", 3), ("filter_hz", "40"),
                                        ("r_nominal_ohm", 50.0), ("r_ref_ohm", 20000.0),
                                        ("fault_reads", 0), ("period_ms", -1)])
def test_bad_params_are_rejected(name, value):
    with pytest.raises(ConfigError) as exc:
        validate(PARAMS, {name: value}, "temperature")
    assert exc.value.key == "temperature." + name


def test_params_table_is_well_formed_and_defaults_build(port):
    names = [entry[0] for entry in PARAMS]
    assert len(names) == len(set(names))
    for name, unit, low, high, default, help_text in PARAMS:
        assert help_text, name
        if isinstance(unit, tuple):
            assert default in unit, name
        else:
            assert type(low) is type(high) is type(default), name
            assert low <= default <= high, name
    assert Bench(port).drv.fault == 0


# ---- MicroPython: poll allocates nothing ----

HEAP_LOCKED_PROBE = """
import gc
gc.disable()
import micropython
from drivers import params
from drivers.max31865 import PARAMS, MAX31865


class Chip:
    # Just enough of the chip for the driver's cycle: registers with burst
    # access, 1-shot done at once, a code and fault status the loop changes.
    def __init__(self):
        self.regs = bytearray(8)
        self.sel = False
        self.ptr = -1
        self.wr = False
        self.code = 7620
        self.seen = 0  # OR of the driver's faults while polling

    def value(self, x=None):  # the CS pin
        if x is None:
            return 0 if self.sel else 1
        self.sel = not x
        self.ptr = -1

    def byte(self, b):
        if self.ptr < 0:
            self.ptr = b & 0x7F
            self.wr = b & 0x80
            return 0xFF
        p = self.ptr
        self.ptr = p + 1
        r = self.regs
        if self.wr:
            if p == 0:
                r[0] = b & 0xDD  # D5 (1-shot), D1 (clear) read back as 0
                if b & 2:
                    r[7] = 0
                if b & 0x20:
                    w = self.code << 1
                    r[1] = w >> 8
                    r[2] = w & 0xFF
            elif 3 <= p <= 6:
                r[p] = b
            return 0xFF
        return r[p] if p < 8 else 0xFF

    def write(self, buf):
        i = 0
        n = len(buf)
        while i < n:
            self.byte(buf[i])
            i += 1

    def write_readinto(self, wbuf, rbuf):
        i = 0
        n = len(wbuf)
        while i < n:
            rbuf[i] = self.byte(wbuf[i])
            i += 1


def run(chip, drv, t, polls):
    # t wraps like time.ticks_ms() without ever exceeding a small int
    i = 0
    while i < polls:
        if i == 150:
            chip.code = 0x7FFF  # open: fault path, status clear
            chip.regs[7] = 0x80
        elif i == 300:
            chip.code = 7620
        elif i == 450:
            chip.regs[3] = 0xFF  # converter reset: re-init path
        drv.poll(t)
        chip.seen |= drv.fault
        t = t + 10 if t < 0x3FFFFFF6 else t - 0x3FFFFFF6
        i += 1
    return t


def main():
    chip = Chip()
    drv = MAX31865(chip, chip, params.validate(PARAMS, {"period_ms": 200, "fault_reads": 1},
                                                "t"))
    t = run(chip, drv, 0x3FFFFFFF - 3000, 100)
    before = drv.value
    ok = [0]
    micropython.heap_lock()
    try:
        run(chip, drv, t, 600)  # crosses the tick wrap
        ok[0] = 1
    except MemoryError:
        pass
    micropython.heap_unlock()
    print("poll_ok", ok[0], "fault", drv.fault, "value", before, "code", drv.code,
          "seen", chip.seen)


main()
"""


def test_poll_does_not_allocate_on_micropython(port, tmp_path):
    out = run_probe(tmp_path, HEAP_LOCKED_PROBE)
    assert "poll_ok 1" in out, out
    # The same code gives the same temperature on MicroPython's floats.
    bench = Bench(port)
    bench.chip.code = 7620
    expected = bench.reading()
    value = float(out.split("value ")[1].split()[0])
    assert value == pytest.approx(expected, abs=1e-4)
    assert "fault 0 " in out and "code 7620" in out, out
    # the locked run went through the open fault and the re-init after a reset
    seen = int(out.split("seen ")[1].split()[0])
    assert seen == alarms.T_OPEN | alarms.T_NO_SENSOR, out
