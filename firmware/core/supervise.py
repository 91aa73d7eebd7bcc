# Plant supervision (docs/reliability.md#faults): faults inferred from the
# measurements rather than read from a sensor -- a flow below the interlock
# (LOW_FLOW), an actuator that does not follow (ACTUATOR), inlet and outlet
# temperatures that disagree (T_IMPLAUSIBLE), an inlet temperature outside the
# coefficient set's trusted range (T_MODEL_RANGE). The controller imports this
# at its first tick, not at boot, so the boot's peak heap (config recovery, with
# no collection on the host) does not carry it. Per tick: ints, floats and bools
# only.
from core import alarms
from core.compat import as_number
from core.model import SEASON_COOLING, SEASON_HEATING

IDLE = 3  # the comparison made with the unit stopped (else the season's)


class Latch:
    """A fault declared from evidence: bad evidence in a row, worth w a tick (1, or
    the tick's ms), up to raise_at turns it on; then clear_n good ticks in a row
    turn it off. A tick that is neither starts the count again."""

    def __init__(self):
        self.on = False
        self.n = 0  # > 0: bad evidence in a row; < 0: good ticks in a row

    def feed(self, bad, good, w, raise_at, clear_n):
        n = self.n
        if bad:
            n = n + w if n > 0 else w
            if n >= raise_at:
                self.on = True
        elif good and self.on:
            n = n - 1 if n < 0 else -1
            if -n >= clear_n:
                self.on = False
                n = 0
        else:
            n = 0
        self.n = n


class Supervisor:
    def __init__(self):
        self.act = Latch()  # ACTUATOR
        self.i_good = 0.0  # the PI's integral the last tick the flow followed
        self.tp = Latch()  # T_IMPLAUSIBLE
        self.tp_kind = -1  # IDLE, or the season the comparison is made in
        self.tp_ms = 0
        self.tp_idle = False  # raised with the unit stopped: only then can it clear
        self.tm = Latch()  # T_MODEL_RANGE
        # The pump starts (boot, or from standby or off): the output ramps at the rate
        # limit to the characteristic's output, then the PI takes over.
        self.ramp = True
        self.lf = False  # LOW_FLOW
        self.lf_ms = 0

    def configure(self, p, models):
        self.fault_ticks = p["fault_ticks"]
        self.recover_ticks = p["recover_ticks"]
        self.act_band = p["act_band_pct"]
        self.act_low = -self.act_band  # made once: a negation per tick is a new float
        self.window_ms = p["low_flow_s"] * 1000  # LOW_FLOW's and ACTUATOR's
        self.tp_band = p["t_plaus_k"]
        self.tp_settle_ms = p["cop_window_s"] * 1000  # the metering's window
        self.cool = models["cooling"]
        self.heat = models["heating"]
        if self.act_band <= 0.0:  # switched off: nothing stays declared
            self.act.on = False
        if self.tp_band <= 0.0:
            self.tp.on = False

    def restart(self):
        """The plant's history starts again (a preset output): evidence windows start
        again; declared faults stay until their recovery."""
        self.act.n = 0
        self.tm.n = 0
        self.tp_kind = -1
        self.ramp = False

    def stopped(self):
        """The pump is stopped or at standby: no actuator evidence; it ramps when it
        starts again."""
        self.act.n = 0
        self.ramp = True
        self.lf = False
        self.lf_ms = 0

    def low_flow(self, flow_pct, min_flow, dt_ms) -> bool:
        """LOW_FLOW: the measured flow (None: the unit stopped or no valid flow) below
        the interlock for low_flow_s; clears 1 %-point above it. True while on."""
        if flow_pct is None:
            self.lf_ms = 0
            self.lf = False
        elif flow_pct < min_flow:
            self.lf_ms += dt_ms
            if self.lf_ms >= self.window_ms:
                self.lf = True
        else:
            self.lf_ms = 0
            # 1 %-point hysteresis: no alarm chatter with flow on the threshold.
            if flow_pct >= min_flow + 1.0:
                self.lf = False
        return self.lf

    def follow(self, pi, stage, sp, flow_pct, ff, dt_s, dt_ms):
        """The output for a valid flow: the PI, or, while ACTUATOR is on or the pump
        is starting, open loop on the characteristic (ff) plus the PI's integral from
        the last tick the flow followed -- integrator held, nothing winds up, and
        the PI takes over from there bumplessly."""
        prev = stage.value
        if self.act.on or self.ramp:
            wish = ff + self.i_good
            out = stage.apply(wish, dt_s)
            pi.track(out)
            if out == wish or out == stage.high or out == stage.low:
                self.ramp = False
        else:
            out = stage.apply(pi.update(sp, flow_pct, ff, dt_s), dt_s)
            pi.settle(out)
        self.actuator(sp - flow_pct, out, prev, stage.low, stage.high, pi.integral, dt_ms)
        return out

    def temperatures(self, t, t_out, running, season, dt_ms) -> int:
        """The valid inlet temperature t against the model's range and the outlet's;
        returns the declared T_MODEL_RANGE and T_IMPLAUSIBLE bits."""
        if season:
            # T_MODEL_RANGE: outside the set's t_lo..t_hi the model extrapolates;
            # fault_ticks samples raise it, recover_ticks inside clear it.
            m = self.cool if season == SEASON_COOLING else self.heat
            out = t < m.t_lo or t > m.t_hi
            self.tm.feed(out, not out, 1, self.fault_ticks, self.recover_ticks)
        self._plausible(t, as_number(t_out), running, season, dt_ms)
        return self.bits()

    def bits(self) -> int:
        """The declared T_MODEL_RANGE and T_IMPLAUSIBLE bits."""
        bits = 0
        if self.tm.on:
            bits |= alarms.T_MODEL_RANGE
        if self.tp.on:
            bits |= alarms.T_IMPLAUSIBLE
        return bits

    def _plausible(self, t, t_out, running, season, dt_ms):
        # T_IMPLAUSIBLE: with the unit stopped the loop outlet reads the inlet's
        # temperature; running, the loop gains heat in cooling and loses it in
        # heating. After cop_window_s in one of these conditions a disagreement over
        # t_plaus_k for fault_ticks raises it; within half that for recover_ticks
        # clears it (one raised with the unit stopped, only with it stopped).
        band = self.tp_band
        kind = season if running else IDLE
        if kind != self.tp_kind:
            self.tp_kind = kind
            self.tp_ms = 0
        if band <= 0.0 or t_out is None or not kind:
            self.tp_ms = 0
            return
        if self.tp_ms < self.tp_settle_ms:
            self.tp_ms += dt_ms
            return
        dev = t - t_out  # cooling: the inlet reads above the outlet
        if kind == IDLE:
            if dev < 0.0:
                dev = -dev
        elif kind == SEASON_HEATING:
            dev = -dev
        tp = self.tp
        was = tp.on
        tp.feed(dev > band, dev < 0.5 * band and (kind == IDLE or not self.tp_idle), 1,
                self.fault_ticks, self.recover_ticks)
        if tp.on and not was:
            self.tp_idle = kind == IDLE

    def actuator(self, e, out, prev, low, high, integral, dt_ms):
        """ACTUATOR: the flow error e beyond act_band_pct while the output is at its
        limit in the error's direction or unchanged (the PI can do no more, or is
        held) for low_flow_s; back within the band for recover_ticks clears it.
        Keeps the PI's integral of the last tick the flow followed."""
        band = self.act_band
        big = e > band or e < self.act_low
        act = self.act
        if not big and not act.on:
            self.i_good = integral
        if band > 0.0:
            stuck = big and (out == prev or e > 0.0 and out >= high or e < 0.0 and out <= low)
            act.feed(stuck, not big, dt_ms, self.window_ms, self.recover_ticks)
