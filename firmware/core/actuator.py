# Feed-forward: the actuator output expected to give a flow, from a
# configurable flow-vs-output characteristic. The PI only corrects what this
# gets wrong, so a good characteristic gives a fast, calm loop.
from math import log, sqrt

ACT_VFD = 0
ACT_VALVE_LINEAR = 1
ACT_VALVE_EQP = 2


class FlowCharacteristic:
    def __init__(self):
        self.kind = ACT_VFD
        self.full_flow_pct = 150.0
        self.min_output_pct = 0.0
        self.authority = 0.5
        self.ln_rangeability = log(50.0)

    def configure(self, kind: int, full_flow_pct: float, min_output_pct: float,
                  authority: float, rangeability: float):
        if not full_flow_pct > 0.0:
            raise ValueError("full_flow_pct must be positive")
        if not 0.0 < authority <= 1.0:
            raise ValueError("valve authority must be in (0, 1]")
        if not rangeability > 1.0:
            raise ValueError("valve rangeability must be above 1")
        self.kind = kind
        self.full_flow_pct = float(full_flow_pct)
        self.min_output_pct = float(min_output_pct)
        self.authority = float(authority)
        self.ln_rangeability = log(rangeability)

    def output_for_flow(self, flow_pct: float) -> float:
        """Output % expected to give flow_pct (% of design flow)."""
        phi = flow_pct / self.full_flow_pct
        if phi <= 0.0:
            return 0.0
        if phi >= 1.0:
            return 100.0
        if self.kind == ACT_VFD:
            # Closed loop, no static head: affinity law, flow proportional to speed.
            out = 100.0 * phi
            return out if out > self.min_output_pct else self.min_output_pct
        # Installed characteristic with authority a: phi = 1/sqrt(a/k^2 + 1 - a),
        # k the valve's inherent relative flow; solved here for k.
        a = self.authority
        k = sqrt(a * phi * phi / (1.0 - (1.0 - a) * phi * phi))
        if k <= 0.0:  # phi so small that phi**2 underflowed
            return 0.0
        if self.kind == ACT_VALVE_LINEAR:
            return 100.0 * k
        # Equal percentage: k = R**(x - 1).
        x = 1.0 + log(k) / self.ln_rangeability
        return 100.0 * x if x > 0.0 else 0.0

    def flow_for_output(self, output_pct: float) -> float:
        """The inverse, for simulation and display: flow % expected at output_pct."""
        x = output_pct / 100.0
        if x <= 0.0:
            return 0.0
        if x >= 1.0:
            return self.full_flow_pct
        if self.kind == ACT_VFD:
            return self.full_flow_pct * x
        if self.kind == ACT_VALVE_LINEAR:
            k = x
        else:
            k = 2.718281828459045 ** ((x - 1.0) * self.ln_rangeability)
        a = self.authority
        return self.full_flow_pct / sqrt(a / (k * k) + 1.0 - a)
