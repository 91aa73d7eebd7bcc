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
    t = loop.wait()
    assert ticks_diff(clock.now, t) == 0
