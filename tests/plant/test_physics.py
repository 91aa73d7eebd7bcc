"""Physical consistency: energy balance, monotonicity, hydraulics."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host_tools.plant import coil, params, pump, water
from host_tools.plant import unit as unit_model
from host_tools.plant.plant import Plant


@pytest.mark.parametrize("season", ["cooling", "heating"])
@pytest.mark.parametrize("pct", [45.0, 60.0, 90.0, 115.0])
def test_unit_energy_balance(pp, season, pct):
    plant = Plant(pp, season)
    op = plant.steady_state_at_flow_percent(pct, plant.bench_t_river_c)
    assert op.trip is None
    source_heat = water.capacity_rate_kw_k(op.flow_m3h, op.t_in_c) * (op.t_out_c - op.t_in_c)
    if season == "cooling":  # the loop takes the cooling output plus the unit's input
        assert math.isclose(source_heat, op.q_kw + op.w_hp_kw, rel_tol=0.01)
    else:  # the loop gives the heating output minus the unit's input
        assert math.isclose(-source_heat, op.q_kw - op.w_hp_kw, rel_tol=0.01)


@settings(max_examples=60, deadline=None)
@given(flow=st.floats(0.02, 2.0), velocity=st.floats(0.01, 3.0), t_c=st.floats(1.0, 35.0),
       length=st.floats(1.0, 1000.0), factor=st.floats(1.0, 4.0))
def test_a_longer_coil_never_lowers_effectiveness(flow, velocity, t_c, length, factor):
    short = params.from_overrides({"coil": {"length_m": length}}).coil
    long_ = params.from_overrides({"coil": {"length_m": min(length * factor, 5000.0)}}).coil
    r_out = coil.outside_resistance_mk_w(short, velocity, t_c)
    c = water.capacity_rate_kw_k(flow, t_c)
    e_short = coil.effectiveness(coil.ua_kw_k(short, flow, t_c, r_out), c)
    e_long = coil.effectiveness(coil.ua_kw_k(long_, flow, t_c, r_out), c)
    assert 0.0 < e_short <= e_long <= 1.0


@settings(max_examples=40, deadline=None)
@given(flow=st.floats(0.05, 1.5), velocity=st.floats(0.01, 3.0), t_c=st.floats(1.0, 35.0))
def test_more_loop_flow_or_river_current_never_lowers_coil_ua(flow, velocity, t_c):
    c = params.load(None).coil
    r_slow = coil.outside_resistance_mk_w(c, velocity, t_c)
    r_fast = coil.outside_resistance_mk_w(c, velocity * 1.5, t_c)
    ua = coil.ua_kw_k(c, flow, t_c, r_slow)
    assert coil.ua_kw_k(c, flow * 1.5, t_c, r_slow) >= ua - 1e-12
    assert coil.ua_kw_k(c, flow, t_c, r_fast) >= ua - 1e-12


@settings(max_examples=40, deadline=None)
@given(t_c=st.floats(5.0, 34.0), delta=st.floats(0.1, 4.0), pct=st.floats(40.0, 120.0))
def test_warmer_river_raises_compressor_power_in_cooling(pp, t_c, delta, pct):
    plant = Plant(pp, "cooling")
    cool = plant.steady_state_at_flow_percent(pct, t_c)
    warm = plant.steady_state_at_flow_percent(pct, t_c + delta)
    assert cool.trip is None and warm.trip is None
    assert warm.w_hp_kw >= cool.w_hp_kw
    if t_c >= 18.0:  # above the unit's minimum-lift floor the rise is strict
        assert warm.w_hp_kw > cool.w_hp_kw


@settings(max_examples=40, deadline=None)
@given(t_in=st.floats(5.0, 35.0), flow=st.floats(0.2, 1.2))
def test_unit_heat_balance_at_any_inlet_temperature(pp, t_in, flow):
    for season in ("cooling", "heating"):
        s = unit_model.side(pp.unit, season)
        c = water.capacity_rate_kw_k(flow, t_in)
        a = unit_model.approach_k_per_kw(s, flow, c)
        q, w, q_loop, _, _ = unit_model.operate(s, t_in, a, c)
        expected = q + w if season == "cooling" else -(q - w)
        assert q_loop == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kind", ["valve", "vfd"])
@settings(max_examples=40, deadline=None)
@given(p=st.floats(25.0, 115.0))
def test_output_for_flow_inverts_the_actuator(kind, p):
    plant = Plant(params.from_overrides({"actuator": {"kind": kind}}), "cooling")
    out = plant.output_for_flow_percent(p, 27.6)
    assert 0.0 <= out <= 100.0
    flow_pct = 100.0 * plant.flow_for_output(out) / plant.design_flow_m3h
    # below the VFD's minimum speed the lowest reachable flow is what it gets
    assert flow_pct == pytest.approx(max(p, plant.min_flow_percent()), abs=1e-6)


@pytest.mark.parametrize("characteristic", ["linear", "equal_percentage"])
def test_valve_flow_rises_with_opening_and_pump_meets_system_curve(characteristic):
    plant = Plant(params.from_overrides({"actuator": {"valve_characteristic": characteristic}}),
                  "cooling")
    flows = [plant.flow_for_output(x) for x in range(0, 101, 5)]
    assert flows[0] == 0.0
    assert all(b > a for a, b in zip(flows, flows[1:], strict=False))
    # at full opening the pump head equals the loop's losses
    flow = flows[-1]
    head = pump.head_m(plant.pp.pump, flow)
    from host_tools.plant import valve
    k = plant.k_loop + valve.head_coeff(plant.pp.actuator, 1.0)
    assert head == pytest.approx(k * flow * flow, rel=1e-9)
    assert 0.0 < plant.valve_authority < 1.0


def test_low_flow_trips_head_pressure_in_cooling_and_freeze_in_heating(pp):
    cooling = Plant(pp, "cooling").steady_state_at_flow_percent(5.0, 27.6)
    heating = Plant(pp, "heating").steady_state_at_flow_percent(20.0, 11.5)
    assert cooling.trip == "head_pressure" and heating.trip == "freeze"
    for op in (cooling, heating):
        assert op.q_kw == 0.0 and op.w_hp_kw == 0.0 and op.cop_s == 0.0


def test_paper_pump_form_at_the_rated_point(pp):
    # eqs 4-6 at the PHJ-128A's rated point: 12 m at 0.9 m3/h
    assert pump.head_m(pp.pump, 0.9) == pytest.approx(12.0, abs=0.01)
    assert pump.head_m(pp.pump, 1.5) == pytest.approx(0.0, abs=0.01)
    assert pump.head_m(pp.pump, 0.0) == pytest.approx(25.0)
