"""The honest plant (issue 12): shut-off power, part-load motor and drive losses, metering like
the board's, the unit's capacity and freeze trip on a cold river, a load that varies."""

import dataclasses
import math

import pytest

from host_tools import sim
from host_tools.errors import CopflowError
from host_tools.paths import DATA_DIR
from host_tools.plant import params
from host_tools.plant.plant import Plant
from host_tools.scenario import load_scenario

VFD = DATA_DIR / "plant-vfd.toml"
COLD = DATA_DIR / "plants" / "cold-river-valve.toml"


def _bep_flow(plant: Plant) -> float:
    flows = [i / 200.0 for i in range(10, 240)]
    return max(flows, key=lambda q: plant.pump_point(q)[1])


def test_the_pump_draws_its_shut_off_power_at_zero_flow(pp):
    plant = Plant(pp, "cooling")
    _, eta_0, w_0 = plant.pump_point(1e-4)
    _, _, w_bep = plant.pump_point(_bep_flow(plant))
    assert eta_0 < 0.01  # no flow, no useful work: the efficiency goes to zero...
    assert 0.3 <= w_0 / w_bep <= 0.8  # ...the power does not
    curve = plant.pump_curve
    ratio = curve.shaft_kw(1e-6) / curve.shaft_kw(curve.q_bep)
    assert ratio == pytest.approx(pp.pump.shutoff_power_ratio, rel=1e-3)
    # shaft power rises with flow from shut-off to the fitted range, without a kink
    powers = [curve.shaft_kw(q / 100.0) for q in range(0, 60)]
    assert all(b > a for a, b in zip(powers, powers[1:], strict=False))


def test_vfd_pump_power_is_no_cube_at_low_speed():
    plant = Plant(params.load(VFD), "cooling")
    full = plant.unthrottled_flow_m3h
    speeds = (0.2, 0.35, 0.5, 0.75, 1.0)
    elec = {s: plant.pump_point(s * full)[2] for s in speeds}
    assert elec[0.2] / elec[1.0] > 3.0 * 0.2 ** 3
    assert elec[0.5] / elec[1.0] > 1.2 * 0.5 ** 3
    # wire-to-water efficiency (hydraulic / electric) falls as the speed falls
    overall = [s * full * plant.pump_point(s * full)[0] / 367.0 / elec[s] for s in speeds]
    assert overall == sorted(overall) and overall[0] < 0.5 * overall[-1]


def test_motor_losses_at_the_rated_point_are_the_nameplate_efficiency(pp):
    curve = Plant(params.load(VFD), "cooling").pump_curve
    shaft = curve.shaft_kw(curve.q_bep)
    assert shaft / curve.electric_kw(shaft) == pytest.approx(
        pp.pump.motor_eff * params.load(VFD).actuator.vfd_eff, rel=1e-9)


def test_loss_shares_that_add_up_to_more_than_the_whole_are_refused():
    with pytest.raises(params.PlantConfigError, match="pump.loss_speed_share"):
        params.from_overrides({"pump": {"loss_fixed_share": 0.6, "loss_speed_share": 0.6}})


def test_the_outlet_reading_lags_is_noisy_quantised_and_seeded(pp):
    a, b = Plant(pp, "cooling"), Plant(pp, "cooling")
    for plant in (a, b):
        plant.reset(80.0, 27.6)
    gaps, readings = [], ([], [])
    for k in range(300):
        for plant, out in zip((a, b), readings, strict=True):
            op = plant.step(1.0, 30.0 if k >= 10 else 80.0, 27.6)
            out.append(plant.measure().t_out_c)
        gaps.append(abs(readings[0][-1] - op.t_out_c))
    assert readings[0] == readings[1]
    assert max(gaps[10:40]) > 1.0  # a step in the outlet: the sensor follows with its lag
    assert gaps[-1] < 0.2
    res = pp.meters.t_out_resolution_c
    assert all(abs(r / res - round(r / res)) < 1e-9 for r in readings[0])
    noisy = [Plant(params.from_overrides({"meters": {"t_out_noise_c": 0.2},
                                          "sensors": {"seed": seed}}), "cooling")
             for seed in (1, 7)]
    series = []
    for plant in noisy:
        plant.reset(80.0, 27.6)
        series.append([plant.measure().t_out_c for _ in range(50)])
    assert len(set(series[0])) > 1 and series[0] != series[1]


def test_s0_reading_holds_between_pulses_then_times_out(pp):
    # 100 imp/kWh: at ~0.5 kW one pulse every ~70 s, so the board's reading moves in steps
    coarse = params.from_overrides({"meters": {"unit_pulses_per_kwh": 100.0}})
    plant = Plant(coarse, "cooling")
    plant.reset(80.0, 27.6)
    truth = plant.last.w_hp_kw * 1000.0
    assert plant.measure().p_unit_w == pytest.approx(truth, rel=1e-6)
    plant.set_demand(False)  # the compressor stops: no more pulses
    seen = []
    for _ in range(int(pp.meters.zero_power_timeout_s) + 60):
        plant.step(1.0, 80.0, 27.6)
        seen.append(plant.measure().p_unit_w)
    assert plant.last.w_hp_kw == 0.0
    assert seen[0] > 0.5 * truth  # the board has not seen the stop yet
    assert 0.0 < seen[150] < seen[0]  # overdue pulse: falls as one pulse per time elapsed
    assert seen[-1] == 0.0  # the zero-power timeout
    plant.set_demand(True)  # restart: 0 W until two pulses are timed, then the period
    period_s = 3.6e6 / 100.0 / truth
    again = []
    for _ in range(int(3 * period_s)):
        plant.step(1.0, 80.0, 27.6)
        again.append(plant.measure().p_unit_w)
    assert again[0] == 0.0 and again[int(period_s) - 5] == 0.0
    assert again[-1] == pytest.approx(plant.last.w_hp_kw * 1000.0, rel=0.02)


def test_s0_pulses_count_the_energy_at_the_meter_constant(pp):
    plant = Plant(pp, "cooling")
    plant.reset(80.0, 27.6)
    meter = plant.meters["unit"]
    energy_kwh = 0.0
    for _ in range(3600):
        op = plant.step(1.0, 80.0, 27.6)
        energy_kwh += op.w_hp_kw / 3600.0
    assert abs(meter.count - energy_kwh * pp.meters.unit_pulses_per_kwh) <= 1.0
    assert plant.measure().p_unit_w == pytest.approx(op.w_hp_kw * 1000.0, rel=0.01)


def test_a_cold_river_costs_the_compressor_capacity_and_lowers_the_trip_line():
    cold = params.load(COLD)
    fixed = params.to_namespace(params.merge({**_overrides(cold),
                                              "unit": {**vars(cold.unit),
                                                       "capacity_slope_per_k": 0.0}}))
    t = cold.river.t_winter_c
    honest, held = Plant(cold, "heating"), Plant(fixed, "heating")
    op = honest.steady_state_at_flow_percent(70.0, t)
    assert op.trip is None and op.q_kw < 0.99 * cold.unit.q_heating_kw
    assert held.steady_state_at_flow_percent(70.0, t).q_kw == pytest.approx(
        cold.unit.q_heating_kw)

    def lowest_running(plant):
        tab = plant.table(t, 0.5)
        return tab["pct"][tab["trip"] == 0].min()

    assert lowest_running(honest) < lowest_running(held) - 1.0
    # on the bench the unit meets its load over the paper's range
    bench = Plant(params.load(None), "heating")
    for p in (45.0, 54.5, 62.0):
        assert bench.steady_state_at_flow_percent(p, 11.5).q_kw == pytest.approx(3.3)


def _overrides(pp) -> dict:
    return {sec: dict(vars(getattr(pp, sec))) for sec in params.SCHEMA}


def test_below_its_trip_line_the_unit_runs_the_trip_delay_then_trips_again():
    cold = params.load(COLD)
    plant = Plant(cold, "heating")
    out = plant.output_for_flow_percent(50.0)
    plant.reset(out, cold.river.t_winter_c)  # tripped: below the trip line
    runs, run = [], 0
    for _ in range(1800):
        op = plant.step(1.0, out, cold.river.t_winter_c)
        if op.q_kw > 0:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    assert len(runs) >= 4 and plant.trips >= 4
    assert all(r == pytest.approx(cold.unit.freeze_trip_delay_s, abs=1.0) for r in runs)


def test_a_smaller_load_is_met_and_has_its_own_optimum(pp):
    plant = Plant(pp, "cooling")
    full = plant.optimum(27.6)
    plant.set_load(0.7)
    assert plant.steady_state_at_flow_percent(80.0, 27.6).q_kw == pytest.approx(0.7 * 2.8)
    part = plant.optimum(27.6)
    assert part.q_kw == pytest.approx(0.7 * 2.8) and part.flow_percent < full.flow_percent
    plant.set_load(1.0)
    assert plant.optimum(27.6) == full
    for bad in (0.0, -1.0, math.nan, 4.0):
        with pytest.raises(ValueError, match="load fraction"):
            plant.set_load(bad)


def test_daily_swing_scenario_moves_river_and_load_through_the_harness():
    scenario = load_scenario("daily-swing")
    river, load = scenario.river_profile(), scenario.load_profile()
    bench = params.load(None).river.t_summer_c
    assert river(16 * 3600.0) == pytest.approx(bench + 1.5)
    assert river(4 * 3600.0) == pytest.approx(bench - 1.5)
    assert load(15 * 3600.0) == pytest.approx(1.0) and load(3 * 3600.0) == pytest.approx(0.7)
    short = dataclasses.replace(scenario, hours=1.0, dt_s=30.0)
    result, pp = sim.run_scenario(short, sim.ConstantDriver())
    expected = sum(load((k + 0.5) * 30.0) for k in range(120)) / 120 * pp.unit.q_cooling_kw
    assert result.heat_kwh == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("table, message", [
    ('[load]\nkind = "weekly"', "load.kind"),
    ('[load]\nkind = "daily"\nmean = 0.5', "needs amplitude"),
    ('[load]\nkind = "daily"\nmean = 0.5\namplitude = 0.6', "must stay in"),
    ('[load]\nkind = "constant"\nfraction = "full"', "expected a float"),
    ('[load]\nkind = "constant"\nfraction = 0.5\nmean = 1.0', "mean: unknown key"),
])
def test_bad_load_profiles_name_the_problem(tmp_path, table, message):
    path = tmp_path / "s.toml"
    path.write_text('season = "summer"\n' + table + "\n")
    with pytest.raises(CopflowError, match=message):
        load_scenario(str(path))
