# Measured system COP from the installation's own meters: the source-loop heat
# from the flow and the loop's temperature rise, and the electric power of the
# unit and the pump from S0 energy meters. COP_s is the unit's useful output
# over its input plus the pump's (the paper's definition, eq. 8), averaged over
# a window by energy, the way the simulator reports it.
#
# The loop carries the unit's output plus its input in cooling (heat rejected)
# and its output minus its input in heating (heat extracted), so
#   cooling: Q = rho_cp * V * (t_out - t_in) - W_unit
#   heating: Q = rho_cp * V * (t_in - t_out) + W_unit
from core.compat import as_number
from core.model import SEASON_COOLING, SEASON_HEATING

# Water at 20 degC: rho * cp = 998.2 kg/m3 * 4.182 kJ/(kg K) = 4.174 MJ/(m3 K),
# i.e. 1.159 kW per (m3/h K); from 5 to 35 degC it stays within 0.7 % of
# that (water property tables, e.g. IAPWS-95).
RHO_CP_KW_PER_M3H_K = 1.159


class CopMeter:
    def __init__(self):
        self.window_ms = 300000
        self.cop = None  # the last complete window's COP_s, or None
        self._q_kj = 0.0
        self._w_kj = 0.0
        self._ms = 0

    def configure(self, window_s: int):
        self.window_ms = window_s * 1000
        self.reset()

    def reset(self):
        self.cop = None
        self._q_kj = 0.0
        self._w_kj = 0.0
        self._ms = 0

    def update(self, dt_ms: int, season: int, flow_m3h, t_in_c, t_out_c, p_unit_w, p_pump_w):
        """One tick's worth of energy. A tick with any reading missing, the season
        unknown or no flow is left out of the window, not counted as zero."""
        flow = as_number(flow_m3h)
        t_in = as_number(t_in_c)
        t_out = as_number(t_out_c)
        w_unit = as_number(p_unit_w)
        w_pump = as_number(p_pump_w)
        if (flow is None or t_in is None or t_out is None or w_unit is None or w_pump is None
                or flow <= 0.0):
            return
        w_unit *= 0.001
        q_loop = RHO_CP_KW_PER_M3H_K * flow * (t_out - t_in)
        if season == SEASON_COOLING:
            q = q_loop - w_unit
        elif season == SEASON_HEATING:
            q = w_unit - q_loop
        else:
            return
        dt_s = dt_ms * 0.001
        self._q_kj += q * dt_s
        self._w_kj += (w_unit + w_pump * 0.001) * dt_s
        self._ms += dt_ms
        if self._ms >= self.window_ms:
            self.cop = self._q_kj / self._w_kj if self._w_kj > 0.0 else None
            self._q_kj = 0.0
            self._w_kj = 0.0
            self._ms = 0
