# A fixed-rate loop for boards: deadline-based, so the period does not drift
# with the work done each tick, and overruns are counted rather than hidden.
# The clock and sleep functions are passed in (time.ticks_ms and
# time.sleep_ms on a board; simulated ones in tests).
from core.compat import const
from core.ticks import ticks_add, ticks_diff

# Overload is judged over windows of this many periods (1 s of 10 ms slices):
# a window in which more than half the periods were late or skipped. A real
# board routinely overruns single slices (a Modbus flush, a flash write, a
# collection, a long console line), which is counted but not an alarm.
WINDOW = const(100)


class FixedRateLoop:
    def __init__(self, period_ms: int, ticks_ms, sleep_ms):
        if period_ms <= 0:
            raise ValueError("period_ms must be positive")
        self.period_ms = period_ms
        self._ticks_ms = ticks_ms
        self._sleep_ms = sleep_ms
        self.periods = 0  # since start: on time, late (overruns) or never run (skipped)
        self.overruns = 0
        self.skipped = 0
        self.overloaded = False  # the last whole window was mostly late
        self._periods = 0  # periods in the current window (on time, late and skipped)
        self._late = 0  # of which late or skipped
        self._deadline = ticks_ms()

    def now(self):
        """The loop's clock (the ticks_ms it was given): one clock for the whole app."""
        return self._ticks_ms()

    def restart(self):
        """Start the schedule afresh from now (after time the loop did not own)."""
        self._deadline = self._ticks_ms()
        self._periods = self._late = 0

    def wait(self) -> int:
        """Sleep until the next deadline; returns the tick time to hand to step()."""
        self._deadline = ticks_add(self._deadline, self.period_ms)
        now = self._ticks_ms()
        remaining = ticks_diff(self._deadline, now)
        if remaining > 0:
            self._sleep_ms(remaining)
            self._count(1, 0)
            return self._deadline
        self.overruns += 1
        late = 1
        if -remaining >= self.period_ms:
            # More than a whole period late: drop the missed ticks instead of
            # running a burst of them back to back.
            missed = -remaining // self.period_ms
            self.skipped += missed
            late += missed
            self._deadline = now
        self._count(late, late)
        return self._deadline

    def _count(self, periods: int, late: int):
        self.periods += periods
        self._periods += periods
        self._late += late
        if self._periods >= WINDOW:
            self.overloaded = self._late * 2 > self._periods
            self._periods = self._late = 0
