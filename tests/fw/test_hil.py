from core.controller import Measurements
from fwtest import raises
from hil import LOCKSTEP, HilError, HilPort


def test_parse_and_fill():
    h = HilPort()
    h.start(LOCKSTEP, 1000)
    h.parse(["27.6", "0.55", "1", "1"])
    m = Measurements()
    h.fill(m, 1500)
    assert m.t_in_c == 27.6 and m.flow_m3h == 0.55 and m.unit_running and m.unit_mode == 1


def test_missing_values_and_bad_fields():
    h = HilPort()
    h.parse(["nan", "none", "0", "2"])
    assert h.t_in_c is None and h.flow_m3h is None and not h.running
    raises(HilError, h.parse, ["1", "2", "3"])
    raises(HilError, h.parse, ["1", "2", "5", "1"])
    raises(HilError, h.parse, ["1", "2", "1", "1.5"])


def test_streamed_values_expire_when_the_link_goes_quiet():
    h = HilPort()
    h.timeout_ms = 5000
    h.start(2, 0)
    h.parse(["12.0", "0.3", "1", "2"])
    h.streamed(0)
    m = Measurements()
    h.fill(m, 4000)
    assert m.t_in_c == 12.0
    h.fill(m, 6000)
    assert m.t_in_c is None and m.flow_m3h is None


def test_simulated_clock_wraps_like_ticks_ms():
    h = HilPort()
    h.start(LOCKSTEP, (1 << 30) - 500)
    assert h.advance(1000) == 500


def test_a_garbled_measurement_is_refused_and_changes_nothing():
    h = HilPort()
    h.parse(["27.5", "0.5", "1", "1"])
    for bad in (["x", "0.5", "1", "1"], ["27.5", "1e999", "1", "1"], ["27.5", "0.5", "1", "3"],
                ["27.5", "0.5", "2", "1"]):
        try:
            h.parse(bad)
        except HilError:
            pass
        else:
            raise AssertionError("accepted %r" % bad)
        assert h.t_in_c == 27.5 and h.flow_m3h == 0.5 and h.running and h.unit_mode == 1


def test_the_link_expires_when_nothing_arrives_for_the_timeout():
    h = HilPort()
    h.timeout_ms = 2000
    h.start(LOCKSTEP, (1 << 30) - 1000)  # across the tick wrap
    assert not h.expired((1 << 30) - 1000 + 2000 & ((1 << 30) - 1))
    h.streamed(500)
    assert not h.expired(2500)
    assert h.expired(2501)
