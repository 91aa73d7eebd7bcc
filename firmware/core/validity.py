# Measurement validity: range, rate of change, stuck value (a non-zero value
# repeated to the last bit) and missing samples. A bad sample is held over
# (the last good value stands) until
# `fault_ticks` bad samples in a row declare a fault; a declared fault clears
# only after `recover_ticks` good samples in a row, so a value sitting on a
# threshold cannot make the output chatter.


class SensorCheck:
    def __init__(self, bit_missing: int, bit_range: int, bit_stuck: int, bit_rate: int):
        self.bit_missing = bit_missing
        self.bit_range = bit_range
        self.bit_stuck = bit_stuck
        self.bit_rate = bit_rate
        self.low = 0.0
        self.high = 1.0
        self.max_rate_per_s = 1.0
        self.stuck_ms = 0
        self.fault_ticks = 3
        self.recover_ticks = 10
        self.reset()

    def configure(self, low, high, max_rate_per_s, stuck_s, fault_ticks, recover_ticks):
        self.low = float(low)
        self.high = float(high)
        self.max_rate_per_s = float(max_rate_per_s)
        self.stuck_ms = int(stuck_s) * 1000
        self.fault_ticks = int(fault_ticks)
        self.recover_ticks = int(recover_ticks)

    def reset(self):
        self.value = 0.0  # last accepted value
        self.have_value = False
        self.faults = 0  # declared fault bits
        self.pending = 0  # bits seen in the current run of bad samples
        self._prev = 0.0  # previous in-range sample, for rate and stuck
        self._have_prev = False
        self._bad = 0
        self._good = 0
        self._same_ms = 0

    @property
    def valid(self) -> bool:
        return self.have_value and not self.faults

    def update(self, x: "float | None", dt_ms: int) -> int:
        """Feed one sample (a finite float or None); returns the declared fault bits."""
        fault = 0
        if x is None:
            fault = self.bit_missing
        elif x < self.low or x > self.high:
            fault = self.bit_range
        else:
            if self._have_prev:
                delta = x - self._prev
                if delta < 0.0:
                    delta = -delta
                if delta > self.max_rate_per_s * dt_ms * 0.001:
                    fault = self.bit_rate
                # Exactly 0.0 is a meter's "no flow" answer (a pulse meter reads it
                # whenever the pump stops), not a stuck value.
                if delta == 0.0 and x != 0.0:
                    self._same_ms += dt_ms
                else:
                    self._same_ms = 0
                if self.stuck_ms and self._same_ms >= self.stuck_ms:
                    fault = self.bit_stuck
            self._prev = x
            self._have_prev = True
        if fault:
            self._good = 0
            self._bad += 1
            self.pending |= fault
            if self._bad >= self.fault_ticks:
                self.faults |= self.pending
        elif x is not None:
            self._bad = 0
            self.pending = 0
            self.value = x
            self.have_value = True
            if self.faults:
                self._good += 1
                if self._good >= self.recover_ticks:
                    self.faults = 0
                    self._good = 0
        return self.faults
