"""Pulse-output flow meter driver: period and window measurement, glitches,
zero flow, noise fault, tick wrap-around."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers import params as dparams
from drivers.pulse_flow import PARAMS, PulseFlow
from fake_machine import Clock, Pin
from mp_probe import run_probe

POLL_US = 10_000
WRAP = 1 << 30


def make(start_us=0, **given_params):
    clock = Clock(start_us)
    pin = Pin(4, Pin.IN, Pin.PULL_UP, value=1)
    drv = PulseFlow(pin, clock.ticks_us, dparams.validate(PARAMS, given_params, "flow"))
    return clock, pin, drv


def period_us(flow_m3h, k_ppl):
    return 3.6e6 / (k_ppl * flow_m3h)


class Bench:
    """Drives the clock, the meter's pin and the 10 ms poll together."""

    def __init__(self, clock, pin, drv):
        self.clock, self.pin, self.drv = clock, pin, drv
        self.next_poll = clock.us + POLL_US
        self.drv.poll(clock.ticks_ms())

    def until(self, t_us, on_poll=None):
        while self.next_poll <= t_us:
            self.clock.us = self.next_poll
            self.drv.poll(self.clock.ticks_ms())
            if on_poll is not None:
                on_poll(self.drv)
            self.next_poll += POLL_US
        self.clock.us = t_us

    def edge(self, t_us):
        """A low-going pulse (open collector) at t_us."""
        self.until(t_us)
        self.pin.set_input(0)
        self.pin.set_input(1)

    def train(self, flow_m3h, k_ppl, duration_us, on_poll=None):
        """Pulses at flow_m3h for duration_us; returns the time of the last one."""
        start = last = self.clock.us
        per = period_us(flow_m3h, k_ppl)
        i = 1
        while True:
            t = start + round(i * per)
            if t > start + duration_us:
                break
            self.until(t, on_poll)
            self.pin.set_input(0)
            self.pin.set_input(1)
            last = t
            i += 1
        self.until(start + duration_us, on_poll)
        return last


def test_starts_at_zero_flow_without_fault():
    clock, pin, drv = make()
    drv.poll(clock.ticks_ms())
    assert drv.value == 0.0
    assert drv.fault == 0
    assert pin.irq_trigger == Pin.IRQ_FALLING


def test_rising_edge_param_and_explicit_trigger():
    _, pin, _ = make(edge="rising")
    assert pin.irq_trigger == Pin.IRQ_RISING
    clock = Clock()
    pin2 = Pin(5)
    PulseFlow(pin2, clock.ticks_us, dparams.validate(PARAMS, {}, "f"), trigger=Pin.IRQ_RISING)
    assert pin2.irq_trigger == Pin.IRQ_RISING


def test_deinit_detaches_the_handler():
    _, pin, drv = make()
    drv.deinit()
    assert pin.irq_handler is None


@settings(max_examples=40, deadline=None)
@given(flow=st.floats(0.05, 8.0), k=st.sampled_from([0.1, 1.0, 10.0, 100.0, 450.0]))
def test_steady_flow_is_measured(flow, k):
    per = period_us(flow, k)
    if per > 20e6 or per < 2500:  # keep within the timeout and below max_flow
        return
    clock, pin, drv = make(k_factor_ppl=k, glitch_us=100, max_flow_m3h=20.0)
    bench = Bench(clock, pin, drv)
    # settle: two pulses for the period, two windows for the counting path
    settled = clock.us + int(max(3 * per, 2.5e6))
    readings = []

    def record(d):
        if clock.us > settled:
            readings.append(d.value)

    bench.train(flow, k, int(max(6 * per, 5e6)), on_poll=record)
    assert readings
    assert drv.fault == 0
    for value in readings:
        assert value is not None
        assert value == pytest.approx(flow, rel=0.002)


def test_low_flow_uses_the_period_and_updates_every_pulse():
    # 1 pulse/L at 0.36 m3/h: one pulse every 10 s, far below the crossover
    clock, pin, drv = make(k_factor_ppl=1.0, zero_flow_timeout_s=60.0)
    bench = Bench(clock, pin, drv)
    last = bench.train(0.36, 1.0, 20_000_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(0.36, rel=1e-4)
    assert not drv.high_range
    # the flow doubles: the very next pulse gives the new value
    bench.edge(last + 5_000_000)
    assert not drv.high_range
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(0.72, rel=1e-3)


def test_high_flow_uses_window_counting():
    clock, pin, drv = make(k_factor_ppl=100.0, crossover_pulses=10, window_ms=1000)
    bench = Bench(clock, pin, drv)
    bench.train(3.0, 100.0, 3_000_000)  # 83 Hz
    assert drv.high_range
    assert drv.value == pytest.approx(3.0, rel=1e-3)


def test_window_counting_averages_out_jitter():
    clock, pin, drv = make(k_factor_ppl=100.0, glitch_us=100)
    bench = Bench(clock, pin, drv)
    per = period_us(3.0, 100.0)
    t0 = clock.us
    for i in range(1, 400):
        jitter = 600 if i % 2 else -600  # IRQ latency, +-5 % of the period
        bench.edge(t0 + round(i * per) + jitter)
    assert drv.high_range
    assert drv.value == pytest.approx(3.0, rel=0.005)


def test_bounce_is_rejected():
    clock, pin, drv = make(k_factor_ppl=1.0, glitch_us=3000)
    bench = Bench(clock, pin, drv)
    per = period_us(0.72, 1.0)  # 5 s
    t0 = clock.us
    for i in range(1, 6):
        t = t0 + round(i * per)
        bench.edge(t)
        for bounce in (300, 900, 2500):  # contact bounce after the edge
            bench.edge(t + bounce)
    bench.until(clock.us + POLL_US)
    assert drv.pulses == 5
    assert drv.glitches == 15
    assert drv.fault == 0
    assert drv.value == pytest.approx(0.72, rel=1e-3)


def test_zero_flow_timeout_gives_zero_not_a_fault():
    clock, pin, drv = make(k_factor_ppl=10.0, zero_flow_timeout_s=5.0)
    bench = Bench(clock, pin, drv)
    stop = bench.train(1.0, 10.0, 2_000_000)
    assert drv.value == pytest.approx(1.0, rel=1e-3)
    seen = []
    bench.until(stop + 4_990_000, on_poll=lambda d: seen.append(d.value))
    assert all(v is not None and v > 0.0 for v in seen)
    assert all(b <= a for a, b in zip(seen, seen[1:], strict=False))  # falls, never rises
    assert seen[-1] < 0.1  # bounded by one pulse per elapsed time
    bench.until(stop + 5_010_000)
    assert drv.value == 0.0
    assert drv.fault == 0
    # the flow comes back: one pulse is not a period, the second one is
    restart = clock.us + 1_000_000
    bench.edge(restart)
    bench.until(clock.us + POLL_US)
    assert drv.value == 0.0
    bench.edge(restart + 360_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(1.0, rel=1e-3)


def test_single_pulse_after_stop_times_out_again():
    clock, pin, drv = make(zero_flow_timeout_s=2.0)
    bench = Bench(clock, pin, drv)
    bench.edge(clock.us + 1_000_000)
    bench.until(clock.us + 10_000_000)
    assert drv.value == 0.0
    bench.edge(clock.us + 100_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == 0.0
    assert drv.pulses == 2


def test_pulse_after_a_stop_longer_than_the_tick_period_is_not_a_glitch():
    # 2**30 us + 500 us later the tick difference aliases to 500 us, inside
    # the glitch window: the re-arm after the timeout makes it a first edge.
    clock, pin, drv = make(glitch_us=2000, zero_flow_timeout_s=10.0)
    bench = Bench(clock, pin, drv)
    bench.edge(clock.us + 1_000_000)
    bench.edge(clock.us + WRAP + 500)
    assert drv.pulses == 2
    assert drv.glitches == 0
    bench.edge(clock.us + 3_600_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(1.0, rel=1e-3)


def test_noise_burst_faults_then_recovers_after_a_clean_window():
    clock, pin, drv = make(k_factor_ppl=10.0, glitch_us=50, max_flow_m3h=5.0, window_ms=1000)
    bench = Bench(clock, pin, drv)
    bench.train(1.0, 10.0, 3_000_000)
    assert drv.value == pytest.approx(1.0, rel=1e-3)
    t0 = clock.us
    for i in range(200):  # 5 kHz interference: 1800 m3/h worth of pulses
        bench.edge(t0 + 200 * i)
    bench.until(clock.us + POLL_US)
    assert drv.fault == alarms.FLOW_PULSE_NOISE
    assert drv.value is None
    faults = []
    bench.train(1.0, 10.0, 3_000_000, on_poll=lambda d: faults.append((d.fault, d.value)))
    assert drv.fault == 0
    assert drv.value == pytest.approx(1.0, rel=1e-3)
    # faulted means no value; the fault cleared only after a clean window
    assert all(v is None for f, v in faults if f)
    cleared_at = next(i for i, (f, _) in enumerate(faults) if not f)
    assert cleared_at * POLL_US >= 1_000_000 - POLL_US


def test_single_noise_spike_at_low_flow_is_caught_at_once():
    clock, pin, drv = make(k_factor_ppl=1.0, glitch_us=100, max_flow_m3h=10.0)
    bench = Bench(clock, pin, drv)
    last = bench.train(0.72, 1.0, 15_000_000)  # a pulse every 5 s
    assert drv.value == pytest.approx(0.72, rel=1e-3)
    bench.edge(last + 5_000_000 - 2000)  # noise just before...
    bench.edge(last + 5_000_000)  # ...a real pulse
    bench.until(clock.us + POLL_US)
    assert drv.fault == alarms.FLOW_PULSE_NOISE
    assert drv.value is None
    bench.until(clock.us + 1_100_000)
    assert drv.fault == 0
    assert drv.value is None  # the last interval is not trusted yet
    bench.edge(last + 10_000_000)
    bench.until(clock.us + POLL_US)
    assert drv.value is None  # one clean pulse after the noise
    bench.edge(last + 15_000_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(0.72, rel=1e-3)


def test_noise_then_silence_reports_zero_after_the_timeout():
    clock, pin, drv = make(k_factor_ppl=10.0, glitch_us=50, max_flow_m3h=5.0,
                           zero_flow_timeout_s=3.0)
    bench = Bench(clock, pin, drv)
    bench.train(1.0, 10.0, 2_000_000)
    bench.edge(clock.us + 100)
    bench.edge(clock.us + 100)
    bench.until(clock.us + 3_100_000)
    assert drv.fault == 0
    assert drv.value == 0.0


@pytest.mark.parametrize("start_us", [WRAP - 1_500_000, (WRAP - 1_500) * 1000 + 12_345])
@pytest.mark.parametrize("flow,k", [(0.36, 1.0), (3.0, 100.0)])
def test_tick_wraparound(start_us, flow, k):
    clock, pin, drv = make(start_us, k_factor_ppl=k, zero_flow_timeout_s=30.0)
    bench = Bench(clock, pin, drv)
    readings = []
    bench.train(flow, k, 25_000_000, on_poll=lambda d: readings.append(d.value))
    assert drv.fault == 0
    assert drv.value == pytest.approx(flow, rel=1e-3)
    assert all(v is not None and v <= flow * 1.001 for v in readings)


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.integers(1, 3_000_000), min_size=1, max_size=80),
       start=st.integers(0, WRAP - 1))
def test_handler_state_stays_small_ints(gaps, start):
    # On a 32-bit port anything from 2**30 up is a heap object, which a hard
    # IRQ handler may not create; the handler state must stay below it.
    clock, pin, drv = make(start, glitch_us=1000, max_flow_m3h=100.0)
    bench = Bench(clock, pin, drv)
    for gap in gaps:
        bench.edge(clock.us + gap)
        for name in ("_n", "_t", "_dt", "_fast", "_glitch", "_rearm_seen"):
            v = getattr(drv, name)
            assert type(v) is int and 0 <= v < WRAP, name
        assert drv.value is None or drv.value >= 0.0


def test_counters_wrap_without_leaving_small_int_range():
    clock, pin, drv = make()
    drv._n = WRAP - 1
    drv._glitch = WRAP - 1
    pin.pulse()
    clock.advance_us(10)
    pin.pulse()
    assert drv._n == 0
    assert drv._glitch == 0


def test_max_flow_below_glitch_window_is_a_config_error():
    # 1000 pulses/L at 10 m3/h is 2778 Hz: a 2 ms glitch window would reject it
    with pytest.raises(ConfigError) as exc:
        make(k_factor_ppl=1000.0, glitch_us=2000, max_flow_m3h=10.0)
    assert exc.value.key == "glitch_us"
    make(k_factor_ppl=1000.0, glitch_us=200, max_flow_m3h=10.0)



# Run the IRQ handler and poll() on the host MicroPython (a 32-bit port, where
# ints from 2**30 up live on the heap) with the heap locked: any allocation
# raises MemoryError, as it would in a hard IRQ on the board.
HEAP_LOCKED_PROBE = """
import gc
gc.disable()
import micropython
from drivers import params
from drivers.pulse_flow import PARAMS, PulseFlow


class FakePin:
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def irq(self, handler=None, trigger=0, hard=False):
        self.handler = handler


class FakeClock:
    def __init__(self):
        self.t = 1073741823 - 5000

    def ticks_us(self):
        return self.t


def step(clock, us):
    t = clock.t
    clock.t = t + us if t <= 1073741823 - us else t - 1073741823 + us - 1


def run(pin, clock, drv, n, gap):
    handler = pin.handler
    i = 0
    while i < n:
        handler(pin)
        step(clock, gap)
        if i % 4 == 0:
            drv.poll(i)
        i += 1


def allocating(x):
    return x + 1


def main():
    pin = FakePin()
    clock = FakeClock()
    drv = PulseFlow(pin, clock.ticks_us, params.validate(
        PARAMS, {"glitch_us": 100, "max_flow_m3h": 1.0, "window_ms": 100}, "f"))
    status = [0, 0]
    micropython.heap_lock()
    try:
        run(pin, clock, drv, 3000, 1999)  # across the tick wrap, some fast
        run(pin, clock, drv, 50, 30)  # glitches
        status[0] = 1
    except MemoryError:
        pass
    try:
        allocating(1073741823)
    except MemoryError:
        status[1] = 1
    micropython.heap_unlock()
    print("handler_ok", status[0], "control_blocked", status[1], "pulses", drv.pulses,
          "glitches", drv.glitches)


main()
"""


def test_handler_and_poll_do_not_allocate_on_micropython(tmp_path):
    out = run_probe(tmp_path, HEAP_LOCKED_PROBE)
    # the control proves the heap really was locked
    assert "handler_ok 1 control_blocked 1 pulses 3013 glitches 37" in out, out
