# The optimiser's setpoint path: a deadband so sensor noise does not move the
# target, and a slew limit so the loop is asked to move gently.


class SetpointShaper:
    def __init__(self):
        self.deadband = 1.0
        self.slew_per_s = 0.5
        self.target = 100.0
        self.value = 100.0
        self.primed = False

    def configure(self, deadband: float, slew_per_s: float):
        if not deadband >= 0.0:
            raise ValueError("deadband must be >= 0")
        if not slew_per_s > 0.0:
            raise ValueError("slew must be > 0")
        self.deadband = float(deadband)
        self.slew_per_s = float(slew_per_s)

    def jump(self, value: float):
        """Set target and value at once (start-up, leaving a safe state)."""
        self.target = value
        self.value = value
        self.primed = True

    def propose(self, target: float):
        if not self.primed:
            self.jump(target)
            return
        diff = target - self.target
        if diff > self.deadband or diff < -self.deadband:
            self.target = target

    def step(self, dt_s: float) -> float:
        step = self.slew_per_s * dt_s
        value = self.value
        target = self.target
        if target > value + step:
            value += step
        elif target < value - step:
            value -= step
        else:
            value = target
        self.value = value
        return value
