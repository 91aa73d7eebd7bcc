"""The dynamic plant: settles on its steady state, trips and restarts, sensors and faults."""

import math

import pytest

from host_tools.plant.plant import Plant


@pytest.mark.parametrize("season", ["cooling", "heating"])
def test_step_converges_to_the_steady_state(pp, season):
    plant = Plant(pp, season)
    t = plant.bench_t_river_c
    plant.reset(90.0, t)
    for _ in range(4000):
        op = plant.step(1.0, 45.0, t)
    ss = plant.steady_state(45.0, t)
    assert op.flow_percent == pytest.approx(ss.flow_percent, abs=1e-6)
    assert op.t_in_c == pytest.approx(ss.t_in_c, abs=0.01)
    assert op.w_hp_kw == pytest.approx(ss.w_hp_kw, rel=1e-3)
    assert op.cop_s == pytest.approx(ss.cop_s, rel=1e-3)


def test_reset_is_steady(pp):
    plant = Plant(pp, "cooling")
    ss = plant.reset(70.0, 27.6)
    op = plant.step(1.0, 70.0, 27.6)
    assert op.t_in_c == pytest.approx(ss.t_in_c, abs=1e-6)
    assert op.flow_m3h == pytest.approx(ss.flow_m3h, rel=1e-12)


def test_flow_change_reaches_the_unit_after_the_loop_transit(pp):
    plant = Plant(pp, "heating")
    plant.reset(80.0, 11.5)
    before = plant.last.t_in_c
    ops = [plant.step(1.0, 80.0, 5.0) for _ in range(60)]  # a cold slug enters the coil
    # the inlet reacts only through the coil's outlet (after the return pipe + mixing lag)
    assert ops[0].t_in_c == pytest.approx(before, abs=0.2)
    assert ops[-1].t_in_c < before - 1.0


def test_low_flow_trips_and_locks_out_then_restarts(pp):
    plant = Plant(pp, "cooling")
    plant.reset(60.0, 27.6)
    trips = []
    for _ in range(200):
        trips.append(plant.step(1.0, 1.0, 27.6).trip)
    assert "head_pressure" in trips and not plant.running
    assert plant.measure().unit_running is False
    for _ in range(int(pp.unit.restart_delay_s) + 400):
        op = plant.step(1.0, 60.0, 27.6)
    assert plant.running and op.trip is None and op.q_kw > 0


def test_sensor_noise_is_seeded_and_quantised(pp):
    a, b = Plant(pp, "cooling"), Plant(pp, "cooling")
    ra = [a.measure().t_in_c for _ in range(50)]
    rb = [b.measure().t_in_c for _ in range(50)]
    assert ra == rb
    res = pp.sensors.t_resolution_c
    assert all(abs(v / res - round(v / res)) < 1e-9 for v in ra)
    assert max(ra) - min(ra) < 0.5


def test_sensor_faults(pp):
    plant = Plant(pp, "cooling")
    plant.inject_fault("t_in", "open")
    assert math.isnan(plant.measure().t_in_c)
    plant.inject_fault("flow", "stuck", 0.42)
    assert plant.measure().flow_m3h == 0.42
    plant.inject_fault("t_in", "offset", 5.0)
    assert plant.measure().t_in_c == pytest.approx(plant.last.t_in_c + 5.0, abs=0.2)
    plant.inject_fault("t_in", "dropout", 1.0)
    assert math.isnan(plant.measure().t_in_c)
    plant.clear_faults()
    m = plant.measure()
    assert not math.isnan(m.t_in_c) and m.flow_m3h != 0.42 and m.unit_mode == "cooling"
    with pytest.raises(ValueError):
        plant.inject_fault("pressure", "open")
    with pytest.raises(ValueError):
        plant.inject_fault("t_in", "melted")


def test_stuck_without_value_holds_the_last_reading(pp):
    plant = Plant(pp, "cooling")
    plant.reset(60.0, 27.6)
    last = plant.measure().t_in_c
    plant.inject_fault("t_in", "stuck")
    for _ in range(100):
        plant.step(1.0, 60.0, 20.0)
    assert plant.measure().t_in_c == last
