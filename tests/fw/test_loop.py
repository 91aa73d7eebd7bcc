from core.loop import FixedRateLoop
from core.ticks import ticks_add, ticks_diff


class FakeClock:
    def __init__(self, start):
        self.now = start

    def ticks_ms(self):
        return self.now

    def sleep_ms(self, ms):
        self.now = ticks_add(self.now, ms)


def test_deadlines_do_not_drift_with_work():
    clock = FakeClock(ticks_add(0, -2500))  # crosses the tick wrap
    loop = FixedRateLoop(100, clock.ticks_ms, clock.sleep_ms)
    start = clock.now
    for _ in range(100):
        loop.wait()
        clock.now = ticks_add(clock.now, 37)  # work that takes 37 ms
    assert ticks_diff(clock.now, start) == 100 * 100 + 37
    assert loop.overruns == 0


def test_overruns_are_counted_and_missed_ticks_skipped():
    clock = FakeClock(0)
    loop = FixedRateLoop(100, clock.ticks_ms, clock.sleep_ms)
    loop.wait()
    clock.now = ticks_add(clock.now, 350)  # one slow tick
    loop.wait()
    assert loop.overruns == 1
    assert loop.skipped == 2
    assert loop.periods == 1 + 1 + 2  # on time, late, and the two that never ran
    t = loop.wait()
    assert ticks_diff(clock.now, t) == 0


def _run(loop, clock, periods, work_ms):
    for _ in range(periods):
        loop.wait()
        clock.now = ticks_add(clock.now, work_ms)


def test_single_overruns_do_not_make_the_loop_overloaded():
    clock = FakeClock(0)
    loop = FixedRateLoop(10, clock.ticks_ms, clock.sleep_ms)
    for _ in range(5):
        _run(loop, clock, 90, 3)
        _run(loop, clock, 1, 45)  # a flash write, a collection: 35 ms late
    _run(loop, clock, 200, 3)
    assert loop.overruns == 5 and loop.skipped >= 5
    assert not loop.overloaded


def test_a_loop_late_most_of_the_time_is_overloaded_until_it_recovers():
    clock = FakeClock(ticks_add(0, -700))  # across the tick wrap
    loop = FixedRateLoop(10, clock.ticks_ms, clock.sleep_ms)
    _run(loop, clock, 250, 14)  # every period 4 ms late
    assert loop.overloaded
    _run(loop, clock, 250, 3)
    assert not loop.overloaded


def test_a_long_stall_is_overload():
    clock = FakeClock(0)
    loop = FixedRateLoop(10, clock.ticks_ms, clock.sleep_ms)
    _run(loop, clock, 50, 3)
    _run(loop, clock, 1, 3000)  # three seconds without a slice
    _run(loop, clock, 1, 3)
    assert loop.overloaded
