"""Pulse-output flow meter driver: period and window measurement, glitches,
zero flow, noise fault, tick wrap-around."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers import params as dparams
from drivers.pulse_flow import PARAMS, PulseFlow
from host_tools.twins import make_machine
from mp_probe import run_probe
from twin_io import needs

POLL_US = 10_000
WRAP = 1 << 30


PIN = 4


def make(port, start_us=0, **given_params):
    """A meter on pin 4 of a fresh board (open collector: pull-up, idle high)."""
    needs(port, "hard_irq")
    m = make_machine(port)
    w = m.world
    w.clock.advance_us(start_us)
    pin = m.Pin(PIN, m.Pin.IN, m.Pin.PULL_UP)
    drv = PulseFlow(pin, w.clock.ticks_us, dparams.validate(PARAMS, given_params, "flow"))
    return w.clock, w, drv


def pulse(w, pin=PIN):
    """A low-going pulse from the meter; the VM then runs the handlers it queued
    (ESP32 pin IRQs are soft: an idle board gets to them at once)."""
    w.pulse(pin)
    w.run_scheduled()


def period_us(flow_m3h, k_ppl):
    return 3.6e6 / (k_ppl * flow_m3h)


class Bench:
    """Drives the clock, the meter's pin and the 10 ms poll together."""

    def __init__(self, w, drv):
        self.w, self.clock, self.drv = w, w.clock, drv
        self.next_poll = self.clock.us + POLL_US
        self.drv.poll(self.clock.ticks_ms())

    def at(self, t_us):
        assert t_us >= self.clock.us, "the bench only moves time forward"
        self.clock.advance_us(t_us - self.clock.us)

    def until(self, t_us, on_poll=None):
        while self.next_poll <= t_us:
            self.at(self.next_poll)
            self.drv.poll(self.clock.ticks_ms())
            if on_poll is not None:
                on_poll(self.drv)
            self.next_poll += POLL_US
        self.at(t_us)

    def edge(self, t_us):
        """A low-going pulse (open collector) at t_us."""
        self.until(t_us)
        pulse(self.w)

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
            pulse(self.w)
            last = t
            i += 1
        self.until(start + duration_us, on_poll)
        return last


def test_starts_at_zero_flow_without_fault_counting_falling_edges(port):
    clock, w, drv = make(port)
    drv.poll(clock.ticks_ms())
    assert drv.value == 0.0
    assert drv.fault == 0
    w.drive(PIN, 0)  # the open collector conducts: a falling edge
    w.run_scheduled()
    assert drv.pulses == 1
    clock.advance_us(50_000)
    w.drive(PIN, 1)  # released: a rising edge, not counted
    w.run_scheduled()
    assert drv.pulses == 1


def test_rising_edge_param_and_explicit_trigger(port):
    clock, w, drv = make(port, edge="rising")
    w.drive(PIN, 0)
    w.run_scheduled()
    assert drv.pulses == 0
    clock.advance_us(50_000)
    w.drive(PIN, 1)
    w.run_scheduled()
    assert drv.pulses == 1
    m = make_machine(port)
    pin2 = m.Pin(5, m.Pin.IN, m.Pin.PULL_UP)
    drv2 = PulseFlow(pin2, m.world.clock.ticks_us, dparams.validate(PARAMS, {}, "f"),
                     trigger=m.Pin.IRQ_RISING)
    m.world.drive(5, 0)
    m.world.clock.advance_us(50_000)
    m.world.drive(5, 1)
    m.world.run_scheduled()
    assert drv2.pulses == 1


def test_deinit_detaches_the_handler(port):
    clock, w, drv = make(port)
    pulse(w)
    assert drv.pulses == 1
    drv.deinit()
    clock.advance_us(100_000)
    pulse(w)
    assert drv.pulses == 1


@settings(max_examples=40, deadline=None)
@given(flow=st.floats(0.05, 8.0), k=st.sampled_from([0.1, 1.0, 10.0, 100.0, 450.0]))
def test_steady_flow_is_measured(port, flow, k):
    per = period_us(flow, k)
    if per > 20e6 or per < 2500:  # keep within the timeout and below max_flow
        return
    clock, w, drv = make(port, k_factor_ppl=k, glitch_us=100, max_flow_m3h=20.0)
    bench = Bench(w, drv)
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


def test_low_flow_uses_the_period_and_updates_every_pulse(port):
    # 1 pulse/L at 0.36 m3/h: one pulse every 10 s, far below the crossover
    clock, w, drv = make(port, k_factor_ppl=1.0, zero_flow_timeout_s=60.0)
    bench = Bench(w, drv)
    last = bench.train(0.36, 1.0, 20_000_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(0.36, rel=1e-4)
    assert not drv.high_range
    # the flow doubles: the very next pulse gives the new value
    bench.edge(last + 5_000_000)
    assert not drv.high_range
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(0.72, rel=1e-3)


def test_high_flow_uses_window_counting(port):
    clock, w, drv = make(port, k_factor_ppl=100.0, crossover_pulses=10, window_ms=1000)
    bench = Bench(w, drv)
    bench.train(3.0, 100.0, 3_000_000)  # 83 Hz
    assert drv.high_range
    assert drv.value == pytest.approx(3.0, rel=1e-3)


def test_window_counting_averages_out_jitter(port):
    clock, w, drv = make(port, k_factor_ppl=100.0, glitch_us=100)
    bench = Bench(w, drv)
    per = period_us(3.0, 100.0)
    t0 = clock.us
    for i in range(1, 400):
        jitter = 600 if i % 2 else -600  # IRQ latency, +-5 % of the period
        bench.edge(t0 + round(i * per) + jitter)
    assert drv.high_range
    assert drv.value == pytest.approx(3.0, rel=0.005)


def test_bounce_is_rejected(port):
    clock, w, drv = make(port, k_factor_ppl=1.0, glitch_us=3000)
    bench = Bench(w, drv)
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


def test_zero_flow_timeout_gives_zero_not_a_fault(port):
    clock, w, drv = make(port, k_factor_ppl=10.0, zero_flow_timeout_s=5.0)
    bench = Bench(w, drv)
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


def test_single_pulse_after_stop_times_out_again(port):
    clock, w, drv = make(port, zero_flow_timeout_s=2.0)
    bench = Bench(w, drv)
    bench.edge(clock.us + 1_000_000)
    bench.until(clock.us + 10_000_000)
    assert drv.value == 0.0
    bench.edge(clock.us + 100_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == 0.0
    assert drv.pulses == 2


def test_pulse_after_a_stop_longer_than_the_tick_period_is_not_a_glitch(port):
    # 2**30 us + 500 us later the tick difference aliases to 500 us, inside
    # the glitch window: the re-arm after the timeout makes it a first edge.
    clock, w, drv = make(port, glitch_us=2000, zero_flow_timeout_s=10.0)
    bench = Bench(w, drv)
    bench.edge(clock.us + 1_000_000)
    bench.edge(clock.us + WRAP + 500)
    assert drv.pulses == 2
    assert drv.glitches == 0
    bench.edge(clock.us + 3_600_000)
    bench.until(clock.us + POLL_US)
    assert drv.value == pytest.approx(1.0, rel=1e-3)


def test_noise_burst_faults_then_recovers_after_a_clean_window(port):
    clock, w, drv = make(port, k_factor_ppl=10.0, glitch_us=50, max_flow_m3h=5.0, window_ms=1000)
    bench = Bench(w, drv)
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


def test_single_noise_spike_at_low_flow_is_caught_at_once(port):
    clock, w, drv = make(port, k_factor_ppl=1.0, glitch_us=100, max_flow_m3h=10.0)
    bench = Bench(w, drv)
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


def test_noise_then_silence_reports_zero_after_the_timeout(port):
    clock, w, drv = make(port, k_factor_ppl=10.0, glitch_us=50, max_flow_m3h=5.0,
                           zero_flow_timeout_s=3.0)
    bench = Bench(w, drv)
    bench.train(1.0, 10.0, 2_000_000)
    bench.edge(clock.us + 100)
    bench.edge(clock.us + 100)
    bench.until(clock.us + 3_100_000)
    assert drv.fault == 0
    assert drv.value == 0.0


@pytest.mark.parametrize("start_us", [WRAP - 1_500_000, (WRAP - 1_500) * 1000 + 12_345])
@pytest.mark.parametrize("flow,k", [(0.36, 1.0), (3.0, 100.0)])
def test_tick_wraparound(port, start_us, flow, k):
    clock, w, drv = make(port, start_us, k_factor_ppl=k, zero_flow_timeout_s=30.0)
    bench = Bench(w, drv)
    readings = []
    bench.train(flow, k, 25_000_000, on_poll=lambda d: readings.append(d.value))
    assert drv.fault == 0
    assert drv.value == pytest.approx(flow, rel=1e-3)
    assert all(v is not None and v <= flow * 1.001 for v in readings)


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.integers(1, 3_000_000), min_size=1, max_size=80),
       start=st.integers(0, WRAP - 1))
def test_handler_state_stays_small_ints(port, gaps, start):
    # On a 32-bit port anything from 2**30 up is a heap object, which a hard
    # IRQ handler may not create; the handler state must stay below it.
    clock, w, drv = make(port, start, glitch_us=1000, max_flow_m3h=100.0)
    bench = Bench(w, drv)
    for gap in gaps:
        bench.edge(clock.us + gap)
        for name in ("_n", "_t", "_dt", "_fast", "_glitch", "_rearm_seen"):
            v = getattr(drv, name)
            assert type(v) is int and 0 <= v < WRAP, name
        assert drv.value is None or drv.value >= 0.0


def test_counters_wrap_without_leaving_small_int_range(port):
    clock, w, drv = make(port)
    drv._n = WRAP - 1
    drv._glitch = WRAP - 1
    pulse(w)
    clock.advance_us(10)
    pulse(w)
    assert drv._n == 0
    assert drv._glitch == 0


def test_max_flow_below_glitch_window_is_a_config_error(port):
    # 1000 pulses/L at 10 m3/h is 2778 Hz: a 2 ms glitch window would reject it
    with pytest.raises(ConfigError) as exc:
        make(port, k_factor_ppl=1000.0, glitch_us=2000, max_flow_m3h=10.0)
    assert exc.value.key == "glitch_us"
    make(port, k_factor_ppl=1000.0, glitch_us=200, max_flow_m3h=10.0)



# The driver on the RP2 twin inside the host MicroPython (a 32-bit port, where
# ints from 2**30 up live on the heap): the twin runs the hard IRQ handler with
# the heap locked, as the port does (an allocation in it is a MemoryError that
# disables the IRQ and is logged); poll() runs with the heap locked too.
HEAP_LOCKED_PROBE = """
import gc
gc.disable()
import micropython
from twins import make_machine
from drivers import params
from drivers.pulse_flow import PARAMS, PulseFlow

m = make_machine("rp2")
w = m.world
clock = w.clock
clock.advance_us(1073741823 - 5000)  # the tick wraps early in the run
pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
drv = PulseFlow(pin, clock.ticks_us, params.validate(
    PARAMS, {"glitch_us": 100, "max_flow_m3h": 1.0, "window_ms": 100}, "f"))


def run(n, gap, status):
    i = 0
    while i < n:
        w.pulse(4)  # a hard IRQ: the handler runs at the edge, the heap locked
        clock.advance_us(gap)
        if i % 4 == 0:
            micropython.heap_lock()
            try:
                drv.poll(i)
            except MemoryError:
                status[0] = 0
            micropython.heap_unlock()
        i += 1


def allocating(x):
    return x + 1


status = [1, 0]
run(3000, 1999, status)  # across the tick wrap, some fast
run(50, 30, status)  # glitches
micropython.heap_lock()
try:
    allocating(1073741823)
except MemoryError:
    status[1] = 1
micropython.heap_unlock()
print("handler_ok", int(not w.log and w.scheduled == 0), "poll_ok", status[0],
      "control_blocked", status[1], "pulses", drv.pulses, "glitches", drv.glitches)
for line in w.log:
    print(line)
"""


def test_handler_and_poll_do_not_allocate_on_micropython(tmp_path):
    out = run_probe(tmp_path, HEAP_LOCKED_PROBE, twins=True)
    # the control proves the heap really was locked
    assert "handler_ok 1 poll_ok 1 control_blocked 1 pulses 3013 glitches 37" in out, out
