"""S0 energy meter driver: energy, average power, zero power, noise."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers import params as dparams
from drivers.s0_meter import PARAMS, S0Meter
from host_tools.twins import make_machine
from twin_io import needs

POLL_US = 10_000


PIN = 12


class Bench:
    """A meter's S0 output on pin 12 of a fresh board (pull-up: idle high), the
    board's clock and the 10 ms poll."""

    def __init__(self, port, start_us=0, **given_params):
        needs(port, "hard_irq")
        self.m = make_machine(port)
        self.w = self.m.world
        self.clock = self.w.clock
        self.clock.advance_us(start_us)
        self.pin = self.m.Pin(PIN, self.m.Pin.IN, self.m.Pin.PULL_UP)
        self.drv = S0Meter(self.pin, self.clock.ticks_us,
                           dparams.validate(PARAMS, given_params, "s0"))
        self.next_poll = self.clock.us + POLL_US
        self.drv.poll(self.clock.ticks_ms())

    def at(self, t_us):
        assert t_us >= self.clock.us, "the bench only moves time forward"
        self.clock.advance_us(t_us - self.clock.us)

    def until(self, t_us):
        while self.next_poll <= t_us:
            self.at(self.next_poll)
            self.drv.poll(self.clock.ticks_ms())
            self.next_poll += POLL_US
        self.at(t_us)

    def drive(self, level):
        """The meter's output changes; the VM runs the handlers it queued
        (ESP32 pin IRQs are soft: an idle board gets to them at once)."""
        self.w.drive(PIN, level)
        self.w.run_scheduled()

    def s0_pulse(self, t_us, width_us=30_000):
        """An S0 pulse: the output conducts (pin low) for width_us."""
        self.until(t_us)
        self.drive(0)
        self.until(t_us + width_us)
        self.drive(1)

    def load(self, watts, ppk, duration_us):
        per = 3.6e12 / (ppk * watts)
        start = self.clock.us
        i = 1
        while start + round(i * per) + 30_000 <= start + duration_us:
            self.s0_pulse(start + round(i * per))
            i += 1
        self.until(start + duration_us)
        return i - 1


@settings(max_examples=25, deadline=None)
@given(watts=st.floats(300.0, 12000.0), ppk=st.sampled_from([500.0, 1000.0, 2000.0]))
def test_energy_and_power_at_steady_load(port, watts, ppk):
    bench = Bench(port, pulses_per_kwh=ppk, window_ms=10_000)
    per_s = 3600.0 / (ppk * watts / 1000.0)
    duration = int(max(8 * per_s, 25.0) * 1e6)
    n = bench.load(watts, ppk, duration)
    assert bench.drv.energy_kwh == pytest.approx(n / ppk)
    assert bench.drv.fault == 0
    assert bench.drv.value == pytest.approx(watts, rel=0.002)


def test_low_load_uses_the_period_high_load_the_window(port):
    bench = Bench(port, pulses_per_kwh=1000.0, window_ms=10_000, crossover_pulses=10)
    bench.load(100.0, 1000.0, 80_000_000)  # one pulse every 36 s
    bench.until(bench.clock.us + POLL_US)
    assert not bench.drv.high_range
    assert bench.drv.value == pytest.approx(100.0, rel=0.002)
    bench.load(9000.0, 1000.0, 30_000_000)  # 2.5 pulses/s
    assert bench.drv.high_range
    assert bench.drv.value == pytest.approx(9000.0, rel=0.002)


def test_zero_power_after_the_timeout(port):
    bench = Bench(port, zero_power_timeout_s=60.0)
    bench.load(1000.0, 1000.0, 20_000_000)
    assert bench.drv.value == pytest.approx(1000.0, rel=0.002)
    energy = bench.drv.energy_kwh
    bench.until(bench.clock.us + 61_000_000)
    assert bench.drv.value == 0.0
    assert bench.drv.fault == 0
    assert bench.drv.energy_kwh == energy


def test_noise_faults_with_the_given_bit_and_clears(port):
    bench = Bench(port, window_ms=5_000, max_power_w=20_000.0)
    bench.load(2000.0, 1000.0, 10_000_000)
    t = bench.clock.us
    for i in range(5):  # interference every 40 ms: 90 kW worth
        bench.s0_pulse(t + 40_000 * i, width_us=5_000)
    bench.until(bench.clock.us + POLL_US)
    assert bench.drv.fault == alarms.FLOW_PULSE_NOISE
    assert bench.drv.value is None
    bench.load(2000.0, 1000.0, 20_000_000)
    assert bench.drv.fault == 0
    assert bench.drv.value == pytest.approx(2000.0, rel=0.002)

    needs(port, "hard_irq")
    m = make_machine(port)
    pin = m.Pin(3, m.Pin.IN, m.Pin.PULL_UP)
    clock = m.world.clock
    drv = S0Meter(pin, clock.ticks_us, dparams.validate(PARAMS, {}, "s0"), noise_bit=1 << 5)
    drv.poll(0)
    for _ in range(3):
        clock.advance_ms(40)
        m.world.pulse(3)
        m.world.run_scheduled()
    drv.poll(clock.ticks_ms())
    assert drv.fault == 1 << 5


def test_short_glitch_inside_a_pulse_is_not_counted(port):
    bench = Bench(port)
    bench.s0_pulse(1_000_000)
    bench.until(2_000_000)
    bench.drive(0)  # the second pulse starts...
    bench.until(2_010_000)
    bench.drive(1)  # ...and its contact bounces 10 ms after the accepted edge
    bench.drive(0)
    bench.until(2_030_000)
    bench.drive(1)
    bench.until(2_040_000)
    assert bench.drv.pulses == 2
    assert bench.drv.glitches == 1
    assert bench.drv.fault == 0
    assert bench.drv.value == pytest.approx(3600.0, rel=0.002)


def test_energy_survives_the_pulse_count_wrap(port):
    bench = Bench(port, pulses_per_kwh=1000.0)
    bench.drv._n = (1 << 30) - 2
    bench.drv.poll(bench.clock.ticks_ms())
    for i in range(5):
        bench.s0_pulse(1_000_000 * (i + 1))
    bench.until(bench.clock.us + POLL_US)
    assert bench.drv.energy_kwh == pytest.approx(((1 << 30) + 3) / 1000.0)


def test_glitch_window_must_be_shorter_than_the_max_power_period(port):
    with pytest.raises(ConfigError) as exc:
        Bench(port, pulses_per_kwh=10000.0, max_power_w=30000.0)  # 12 ms period < 25 ms
    assert exc.value.key == "glitch_ms"
