from core.metering import RHO_CP_KW_PER_M3H_K, CopMeter
from core.model import SEASON_COOLING, SEASON_HEATING


def _run(meter, seconds, season, flow, t_in, t_out, p_unit, p_pump, dt_ms=1000):
    for _ in range(seconds * 1000 // dt_ms):
        meter.update(dt_ms, season, flow, t_in, t_out, p_unit, p_pump)


def test_cooling_cop_from_the_loop_heat_and_the_two_meters():
    m = CopMeter()
    m.configure(60)
    # 0.6 m3/h warmed by 5 K: 3.477 kW into the loop; the unit draws 0.7 kW, the pump 0.1 kW.
    _run(m, 59, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    assert m.cop is None  # the window is not full yet
    _run(m, 1, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    q = RHO_CP_KW_PER_M3H_K * 0.6 * 5.0 - 0.7
    assert abs(m.cop - q / 0.8) < 1e-9


def test_heating_adds_the_unit_input_to_the_heat_taken_from_the_loop():
    m = CopMeter()
    m.configure(10)
    _run(m, 10, SEASON_HEATING, 0.5, 11.5, 8.5, 900.0, 80.0)
    q = RHO_CP_KW_PER_M3H_K * 0.5 * 3.0 + 0.9
    assert abs(m.cop - q / 0.98) < 1e-9


def test_ticks_with_a_missing_reading_or_no_flow_are_left_out():
    m = CopMeter()
    m.configure(10)
    _run(m, 5, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    _run(m, 100, SEASON_COOLING, 0.6, 27.0, None, 700.0, 100.0)
    _run(m, 100, SEASON_COOLING, 0.0, 27.0, 32.0, 0.0, 0.0)
    _run(m, 100, 0, 0.6, 27.0, 32.0, 700.0, 100.0)
    _run(m, 100, SEASON_COOLING, 0.6, 27.0, float("nan"), 700.0, 100.0)
    assert m.cop is None
    _run(m, 5, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    assert m.cop is not None


def test_energy_weighting_over_the_window():
    m = CopMeter()
    m.configure(20)
    _run(m, 10, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    _run(m, 10, SEASON_COOLING, 0.6, 27.0, 30.0, 1400.0, 100.0)
    q = (RHO_CP_KW_PER_M3H_K * 0.6 * 5.0 - 0.7) * 10 + (RHO_CP_KW_PER_M3H_K * 0.6 * 3.0 - 1.4) * 10
    w = 0.8 * 10 + 1.5 * 10
    assert abs(m.cop - q / w) < 1e-9


def test_reconfiguring_starts_a_new_window():
    m = CopMeter()
    m.configure(10)
    _run(m, 10, SEASON_COOLING, 0.6, 27.0, 32.0, 700.0, 100.0)
    assert m.cop is not None
    m.configure(20)
    assert m.cop is None and m.window_ms == 20000
