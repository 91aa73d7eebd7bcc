# Plant faults the controller must catch (issue 16, "every fault caught"): an
# actuator that does not follow, a frozen flow meter, an offset inlet sensor, an
# inlet temperature outside the model's trusted range, and a restart from standby.
# Portable: CPython and the host MicroPython. The "plant" here is the
# controller's own flow characteristic: a healthy loop gives exactly the flow the
# output asks for, plus a little meter noise (so no reading repeats to the bit).
from core import alarms, config
from core.controller import STATE_AUTO, STATE_SAFE, STATE_STANDBY, Controller

DESIGN = 0.6  # m3/h, the default design flow


class Loop:
    """A controller and a plant: flow = characteristic(output), or what a fault makes it."""

    def __init__(self, params=None, mode=1):
        self.c = Controller()
        for name in params or {}:
            self.c.set_param(name, params[name])
        self.now = 0
        self.k = 0
        self.mode = mode
        self.t_in = 27.6 if mode == 1 else 11.5
        self.t_out = None
        self.p_unit = None
        self.running = True
        self.stuck_out = None  # the valve stays here whatever it is told
        self.tripped = False  # the VFD is tripped: no flow
        self.flow_pct = 90.0

    def tick(self, n=1):
        c = self.c
        for _ in range(n):
            m = c.meas
            self.k += 1
            m.t_in_c = self.t_in
            m.flow_m3h = self.flow_pct * DESIGN / 100.0
            if self.flow_pct > 0.0 and self.k % 2:
                m.flow_m3h += 0.0002  # meter noise; no flow reads exactly 0.0
            m.unit_running = self.running
            m.unit_mode = self.mode
            m.t_out_c = self.t_out
            m.p_unit_w = self.p_unit
            cmd = c.step(self.now)
            self.now += 1000
            out = cmd.output_pct if self.stuck_out is None else self.stuck_out
            if self.tripped or not cmd.pump_run:
                self.flow_pct = 0.0
            else:
                self.flow_pct = c._ff.flow_for_output(out)
        return c.cmd

    def until(self, bit, limit):
        """Ticks until the alarm bit is raised (or limit + 1 if it never is)."""
        for n in range(1, limit + 1):
            if self.tick().alarms & bit:
                return n
        return limit + 1


def test_stuck_valve_raises_actuator_holds_the_integrator_and_returns_bumplessly():
    loop = Loop()
    cmd = loop.tick(120)
    assert cmd.state == STATE_AUTO and cmd.alarms == 0
    healthy = cmd.output_pct
    loop.stuck_out = healthy * 0.8  # stuck lower: the flow sags ~20 %-points
    n = loop.until(alarms.ACTUATOR, 300)
    # The PI drives the output to its limit (about 110 s at ki * error), then
    # low_flow_s (30 s) at the limit.
    assert n <= 180, n
    cmd = loop.tick()
    assert cmd.state == STATE_SAFE
    cmd = loop.tick(7)  # from 100 % at the rate limit (10 %/s)
    # Integrator held: the output goes back to what gave the setpoint, not 100 %.
    assert abs(cmd.output_pct - healthy) < 1.0, (cmd.output_pct, healthy)
    held = cmd.output_pct
    cmd = loop.tick(60)
    assert cmd.alarms & alarms.ACTUATOR and abs(cmd.output_pct - held) < 0.5
    loop.stuck_out = None  # the valve frees
    outs = []
    for _ in range(12):
        cmd = loop.tick()
        outs.append(cmd.output_pct)
    assert not cmd.alarms & alarms.ACTUATOR and cmd.state == STATE_AUTO
    for i in range(1, len(outs)):
        assert abs(outs[i] - outs[i - 1]) < 1.0  # bumpless: no step when the PI takes over
    assert abs(cmd.flow_sp_pct - loop.flow_pct) < 2.0


def test_vfd_trip_raises_actuator_and_the_reset_does_not_overshoot():
    loop = Loop({"actuator": "vfd", "ff_full_flow_pct": 141.4, "ff_min_output_pct": 20.0})
    cmd = loop.tick(120)
    healthy = cmd.output_pct
    loop.tripped = True
    n = loop.until(alarms.ACTUATOR, 120)
    assert n <= 60, n  # the output reaches 100 % in about 12 s, then low_flow_s
    cmd = loop.tick(300)  # five minutes tripped: nothing winds up
    assert cmd.state == STATE_SAFE and cmd.alarms & alarms.LOW_FLOW
    assert abs(cmd.output_pct - healthy) < 1.0, (cmd.output_pct, healthy)
    loop.tripped = False  # reset: the drive runs at the output it is given
    peak = 0.0
    for _ in range(60):
        cmd = loop.tick()
        peak = max(peak, loop.flow_pct)
    assert peak < cmd.flow_sp_pct + 2.0, (peak, cmd.flow_sp_pct)
    assert not cmd.alarms & alarms.ACTUATOR and cmd.state == STATE_AUTO


def test_a_large_setpoint_step_is_not_an_actuator_fault():
    # Winter start: the plant at 100 % flow, the optimum at 54.5 %; the PI takes
    # its time (bumpless from the preset output) but the flow follows it.
    loop = Loop(mode=2)
    loop.c.preset_output(84.5)
    loop.flow_pct = 100.0
    for _ in range(300):
        assert not loop.tick().alarms & alarms.ACTUATOR
    assert abs(loop.flow_pct - 54.5) < 1.0


def test_actuator_check_is_off_with_a_zero_band():
    loop = Loop({"act_band_pct": 0.0})
    loop.tick(30)
    loop.tripped = True
    assert loop.until(alarms.ACTUATOR, 120) == 121


def test_stuck_flow_detection_is_on_by_default():
    assert config.default_params()["flow_stuck_s"] > 0
    c = Controller()
    m = c.meas
    m.t_in_c = 27.6
    m.unit_running = True
    m.unit_mode = 1
    m.flow_m3h = 0.55  # repeated to the last bit: a frozen meter
    now = 0
    raised = 0
    for n in range(1, 200):
        now += 1000
        if c.step(now).alarms & alarms.FLOW_STUCK:
            raised = n
            break
    window = config.default_params()["flow_stuck_s"]
    assert window <= raised <= window + 3, raised
    assert c.cmd.state == STATE_SAFE


def test_zero_flow_and_a_noisy_meter_are_not_stuck():
    loop = Loop()
    loop.tick(400)  # noisy readings (two values alternate): never a repeat to the bit
    assert not loop.c.cmd.alarms & alarms.FLOW_STUCK
    loop.running = False  # standby at 0 %: the meter reads exactly 0.0 for long
    for _ in range(400):
        assert not loop.tick().alarms & alarms.FLOW_STUCK


def test_inlet_offset_while_running_is_implausible_after_the_settling_time():
    # River 22 degC; the inlet reads 30 (an 8 K offset, in range), the outlet 27.2:
    # in cooling the loop gains heat, so the inlet cannot read above the outlet.
    loop = Loop()
    loop.t_in = 30.0
    loop.t_out = 27.2
    loop.p_unit = 600.0
    settle = config.default_params()["cop_window_s"]
    cmd = loop.tick(settle - 5)
    assert not cmd.alarms & alarms.T_IMPLAUSIBLE
    n = loop.until(alarms.T_IMPLAUSIBLE, 20)
    assert n <= 10, n
    cmd = loop.tick()
    assert cmd.state == STATE_SAFE and abs(cmd.flow_sp_pct - 100.0) < 1e-9  # fallback flow
    loop.t_in = 22.0  # repaired: the outlet 5.2 K above the inlet
    cmd = loop.tick(9)
    assert cmd.alarms & alarms.T_IMPLAUSIBLE  # recover_ticks: not yet
    cmd = loop.tick(2)
    assert not cmd.alarms & alarms.T_IMPLAUSIBLE and cmd.state == STATE_AUTO


def test_inlet_offset_seen_with_the_unit_stopped_clears_only_when_stopped():
    loop = Loop()
    loop.running = False
    loop.t_in = 22.0  # reads 8 K low
    loop.t_out = 30.0
    settle = config.default_params()["cop_window_s"]
    cmd = loop.tick(settle - 5)
    assert not cmd.alarms & alarms.T_IMPLAUSIBLE and cmd.state == STATE_STANDBY
    assert loop.until(alarms.T_IMPLAUSIBLE, 20) <= 10
    # The unit starts; running, an inlet 8 K low looks like a normal rise: that
    # cannot clear it, and the loop runs on the fallback flow.
    loop.running = True
    loop.t_out = 27.0
    loop.p_unit = 600.0
    cmd = loop.tick(settle + 20)
    assert cmd.alarms & alarms.T_IMPLAUSIBLE and cmd.state == STATE_SAFE
    assert abs(cmd.flow_sp_pct - 100.0) < 1e-9
    loop.running = False
    loop.t_out = 22.0  # stopped again, the sensors agree: it clears
    cmd = loop.tick(settle + 15)
    assert not cmd.alarms & alarms.T_IMPLAUSIBLE


def test_plausibility_needs_the_outlet_and_is_off_with_a_zero_band():
    loop = Loop()
    loop.t_in = 30.0
    loop.p_unit = 600.0
    loop.tick(400)  # no outlet sensor: nothing to compare
    assert not loop.c.cmd.alarms & alarms.T_IMPLAUSIBLE
    loop = Loop({"t_plaus_k": 0.0})
    loop.t_in = 30.0
    loop.t_out = 27.2
    loop.p_unit = 600.0
    loop.tick(400)
    assert not loop.c.cmd.alarms & alarms.T_IMPLAUSIBLE


def test_inlet_beyond_the_model_range_raises_and_falls_back_within_3_ticks():
    loop = Loop()
    loop.t_in = 33.0  # the default cooling set is trusted over 20..32 degC
    states = []
    for _ in range(3):
        cmd = loop.tick()
        states.append(cmd.state)
    assert cmd.alarms & alarms.T_MODEL_RANGE and states[-1] == STATE_SAFE
    assert abs(cmd.flow_sp_pct - 100.0) < 1e-9  # fallback_flow_pct, not the model's 91.6
    for t in (32.6, 32.2, 31.8, 31.8, 31.8, 32.2, 31.8):  # 0.4 K/s: no T_RATE
        loop.t_in = t
        cmd = loop.tick()  # 32.2: one sample outside again, the recovery starts over
    cmd = loop.tick(8)
    assert cmd.alarms & alarms.T_MODEL_RANGE  # recover_ticks (10) inside: not yet
    cmd = loop.tick(2)
    assert not cmd.alarms & alarms.T_MODEL_RANGE and cmd.state == STATE_AUTO


def test_cold_inlet_in_heating_is_beyond_the_model_range():
    loop = Loop(mode=2)
    loop.t_in = 5.0  # heating set: 6..16 degC
    cmd = loop.tick(3)
    assert cmd.alarms & alarms.T_MODEL_RANGE and cmd.state == STATE_SAFE


def test_restart_from_standby_ramps_to_the_setpoint_without_low_flow():
    loop = Loop()
    cmd = loop.tick(120)
    before = cmd.output_pct
    loop.running = False
    cmd = loop.tick(60)
    assert cmd.state == STATE_STANDBY and cmd.output_pct == 0.0
    loop.running = True
    cmd = loop.tick(10)  # the rate limit (10 %/s) allows it in 8 s
    assert abs(cmd.output_pct - before) < 1.0, (cmd.output_pct, before)
    cmd = loop.tick(60)
    assert cmd.alarms == 0 and cmd.state == STATE_AUTO
