from core import alarms
from core.validity import SensorCheck


def _check():
    c = SensorCheck(alarms.T_MISSING, alarms.T_RANGE, alarms.T_STUCK, alarms.T_RATE)
    c.configure(0.0, 40.0, 0.5, 60, 3, 5)
    return c


def test_good_samples_are_accepted():
    c = _check()
    c.update(20.0, 1000)
    assert c.valid and c.value == 20.0


def test_a_single_bad_sample_is_held_over():
    c = _check()
    c.update(20.0, 1000)
    c.update(None, 1000)
    assert c.valid and c.value == 20.0 and c.faults == 0


def test_missing_declared_after_fault_ticks_and_recovers_with_hysteresis():
    c = _check()
    c.update(20.0, 1000)
    for _ in range(3):
        c.update(None, 1000)
    assert c.faults == alarms.T_MISSING and not c.valid
    for _ in range(4):
        c.update(20.0, 1000)
        assert not c.valid
    c.update(20.0, 1000)
    assert c.valid


def test_range_and_rate_faults():
    c = _check()
    for _ in range(3):
        c.update(85.0, 1000)
    assert c.faults & alarms.T_RANGE
    c2 = _check()
    c2.update(10.0, 1000)
    for x in (20.0, 30.0, 5.0):  # each jump is far above 0.5 degC/s
        c2.update(x, 1000)
    assert c2.faults & alarms.T_RATE


def test_stuck_value_is_a_fault():
    c = _check()
    for _ in range(70):
        c.update(12.0, 1000)
    assert c.faults & alarms.T_STUCK


def test_value_on_a_threshold_does_not_chatter():
    c = _check()
    c.update(39.9, 1000)
    states = []
    for i in range(40):
        c.update(40.05 if i % 2 else 39.95, 1000)
        states.append(c.valid)
    assert all(states)
