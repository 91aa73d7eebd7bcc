# A fixed-rate loop for boards: deadline-based, so the period does not drift
# with the work done each tick, and overruns are counted rather than hidden.
# The clock and sleep functions are passed in (time.ticks_ms and
# time.sleep_ms on a board; simulated ones in tests).
from core.ticks import ticks_add, ticks_diff


class FixedRateLoop:
    def __init__(self, period_ms: int, ticks_ms, sleep_ms):
        if period_ms <= 0:
            raise ValueError("period_ms must be positive")
        self.period_ms = period_ms
        self._ticks_ms = ticks_ms
        self._sleep_ms = sleep_ms
        self.overruns = 0
        self.skipped = 0
        self._deadline = ticks_ms()

    def now(self):
        """The loop's clock (the ticks_ms it was given): one clock for the whole app."""
        return self._ticks_ms()

    def restart(self):
        """Start the schedule afresh from now (after time the loop did not own)."""
        self._deadline = self._ticks_ms()

    def wait(self) -> int:
        """Sleep until the next deadline; returns the tick time to hand to step()."""
        self._deadline = ticks_add(self._deadline, self.period_ms)
        now = self._ticks_ms()
        remaining = ticks_diff(self._deadline, now)
        if remaining > 0:
            self._sleep_ms(remaining)
            return self._deadline
        self.overruns += 1
        if -remaining >= self.period_ms:
            # More than a whole period late: drop the missed ticks instead of
            # running a burst of them back to back.
            self.skipped += -remaining // self.period_ms
            self._deadline = now
        return self._deadline
