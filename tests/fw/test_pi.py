from core.actuator import ACT_VALVE_EQP, ACT_VALVE_LINEAR, ACT_VFD, FlowCharacteristic
from core.pi import PI, OutputStage
from fwtest import close, raises


def test_output_stage_clamps_and_limits_rate():
    out = OutputStage()
    out.configure(10.0, 90.0, 5.0)
    assert out.apply(100.0, 1.0) == 15.0  # starts at the low limit, then 5 %/s
    for _ in range(30):
        value = out.apply(100.0, 1.0)
    assert value == 90.0
    assert out.apply(0.0, 2.0) == 80.0


def test_output_stage_rejects_inverted_limits():
    raises(ValueError, OutputStage().configure, 50.0, 10.0, 1.0)
    raises(ValueError, OutputStage().configure, 0.0, 10.0, 0.0)


def test_pi_rejects_wrong_sign_gains():
    raises(ValueError, PI().configure, -1.0, 10.0)
    raises(ValueError, PI().configure, 1.0, 0.0)


def test_bumpless_transfer_reproduces_the_manual_output():
    pi = PI()
    pi.configure(0.5, 10.0)
    pi.track(42.0)
    assert close(pi.update(80.0, 70.0, 30.0, 1.0), 42.0)


def test_integral_does_not_wind_up_against_the_clamp():
    pi = PI()
    pi.configure(0.5, 5.0)
    out = OutputStage()
    out.configure(0.0, 100.0, 1000.0)
    pi.track(0.0)
    for _ in range(1000):  # flow stuck far below setpoint: output saturates
        applied = out.apply(pi.update(100.0, 0.0, 0.0, 1.0), 1.0)
        pi.settle(applied)
    assert applied == 100.0
    # When the error reverses, the output leaves the clamp at once.
    applied = out.apply(pi.update(100.0, 120.0, 0.0, 1.0), 1.0)
    assert applied < 100.0


def test_characteristics_invert_each_other():
    for kind in (ACT_VFD, ACT_VALVE_LINEAR, ACT_VALVE_EQP):
        ff = FlowCharacteristic()
        ff.configure(kind, 150.0, 0.0, 0.4, 30.0)
        for flow in (10.0, 40.0, 75.0, 100.0, 140.0):
            out = ff.output_for_flow(flow)
            assert 0.0 <= out <= 100.0
            assert close(ff.flow_for_output(out), flow, rel=1e-6, abs_=1e-6) or out == 0.0


def test_characteristics_are_monotonic():
    for kind in (ACT_VFD, ACT_VALVE_LINEAR, ACT_VALVE_EQP):
        ff = FlowCharacteristic()
        ff.configure(kind, 150.0, 0.0, 0.5, 50.0)
        last = -1.0
        flow = 0.0
        while flow <= 160.0:
            out = ff.output_for_flow(flow)
            assert out >= last
            last = out
            flow += 2.5
