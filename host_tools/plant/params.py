"""Plant parameters: names, units, allowed ranges and the paper-bench defaults, loaded from TOML.

Every parameter has a line in docs/plant.md. A TOML file overrides any subset;
an unknown key, a wrong type or a value out of range is a PlantConfigError
naming the dotted key.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from host_tools.errors import CopflowError


class PlantConfigError(CopflowError):
    pass


@dataclass(frozen=True)
class Param:
    default: float | str
    unit: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


P = Param
SCHEMA: dict[str, dict[str, Param]] = {
    "river": {
        "t_summer_c": P(27.6, "degC", 0.0, 40.0, doc="river water, summer bench test"),
        "t_winter_c": P(11.5, "degC", 0.0, 40.0, doc="river water, winter bench test"),
        "velocity_summer_m_s": P(1.0, "m/s", 0.0, 5.0,
                                 doc="river velocity across the coil, summer (high water)"),
        "velocity_winter_m_s": P(0.3, "m/s", 0.0, 5.0,
                                 doc="river velocity across the coil, winter (low water)"),
    },
    "coil": {
        "length_m": P(40.0, "m", 1.0, 2000.0, doc="PE pipe length of the spiral coil"),
        "d_outer_mm": P(25.0, "mm", 10.0, 200.0, doc="PE pipe outer diameter"),
        "wall_mm": P(2.3, "mm", 0.5, 20.0, doc="PE pipe wall thickness"),
        "k_wall_w_mk": P(0.40, "W/(m K)", 0.1, 2.0, doc="PE thermal conductivity"),
        "fouling_m2k_w": P(0.0005, "m2 K/W", 0.0, 0.01, doc="outside fouling resistance"),
        "spiral_factor": P(1.0, "", 0.5, 3.0, doc="inside heat-transfer gain of the spiral"),
    },
    "pipe": {
        "length_m": P(20.0, "m", 0.0, 1000.0, doc="supply + return pipe length"),
        "d_inner_mm": P(20.4, "mm", 5.0, 300.0, doc="pipe inner diameter"),
        "k_fixed_m_per_m3h2": P(4.0, "m/(m3/h)^2", 0.0, 1000.0,
                                doc="head loss of coil, pipes and fittings per flow squared"),
        "water_volume_l": P(30.0, "L", 0.1, 10000.0, doc="loop water volume (thermal mass)"),
    },
    "unit": {
        "q_cooling_kw": P(2.8, "kW", 0.1, 500.0, doc="cooling output (summer test)"),
        "q_heating_kw": P(3.3, "kW", 0.1, 500.0, doc="heating output (winter test)"),
        "t_evap_cooling_c": P(5.0, "degC", -20.0, 20.0, doc="evaporating temperature, cooling"),
        "t_cond_heating_c": P(45.0, "degC", 20.0, 70.0, doc="condensing temperature, heating"),
        "carnot_fraction_cooling": P(0.55, "", 0.05, 0.9, doc="Carnot fraction, cooling"),
        "carnot_fraction_heating": P(0.45, "", 0.05, 0.9, doc="Carnot fraction, heating"),
        "ua_water_cooling_kw_k": P(1.5, "kW/K", 0.01, 100.0,
                                   doc="water-side exchanger UA as condenser (cooling)"),
        "ua_water_heating_kw_k": P(1.5, "kW/K", 0.01, 100.0,
                                   doc="water-side exchanger UA as evaporator (heating)"),
        "dp_design_kpa": P(15.9, "kPa", 0.0, 500.0, doc="water-side pressure drop at design flow"),
        "design_flow_m3h": P(0.6, "m3/h", 0.01, 1000.0, doc="unit design water flow (P = 100 %)"),
        "w_aux_kw": P(0.03, "kW", 0.0, 10.0, doc="controls and fan power while running"),
        "w_max_kw": P(1.2, "kW", 0.05, 500.0, doc="compressor power limit (capacity limit)"),
        "t_cond_max_c": P(60.0, "degC", 30.0, 80.0, doc="head-pressure trip, cooling"),
        "t_evap_min_c": P(-8.0, "degC", -30.0, 10.0, doc="freeze trip (evaporating), heating"),
        "t_leaving_min_c": P(0.5, "degC", -5.0, 10.0, doc="freeze trip (leaving water), heating"),
        "restart_delay_s": P(300.0, "s", 0.0, 3600.0,
                             doc="after a trip the compressor stays off this long"),
    },
    "pump": {
        "h0_m": P(25.0, "m", 0.1, 500.0, doc="head at zero flow (max head, PHJ-128A)"),
        "h1_m_per_m3h": P(-11.11, "m/(m3/h)", -1000.0, 1000.0, doc="head curve, linear term"),
        "h2_m_per_m3h2": P(-3.704, "m/(m3/h)^2", -1000.0, 0.0, doc="head curve, quadratic term"),
        "eta1_per_m3h": P(1.1667, "1/(m3/h)", 0.0, 10.0,
                          doc="efficiency curve, linear term (peak 35 % at 0.6 m3/h)"),
        "eta2_per_m3h2": P(-0.9722, "1/(m3/h)^2", -10.0, 0.0, doc="efficiency curve, quadratic"),
        "motor_eff": P(0.50, "", 0.1, 1.0, doc="motor efficiency (shaft to electric)"),
        "flow_max_m3h": P(1.5, "m3/h", 0.01, 1000.0, doc="rated maximum flow"),
    },
    "actuator": {
        "kind": P("valve", "", choices=("valve", "vfd"), doc="throttling valve or VFD"),
        "valve_kvs_m3h": P(0.8, "m3/h at 1 bar", 0.01, 1000.0, doc="valve Kvs"),
        "valve_characteristic": P("linear", "", choices=("linear", "equal_percentage"),
                                  doc="inherent valve characteristic"),
        "valve_rangeability": P(50.0, "", 2.0, 500.0, doc="equal-percentage rangeability"),
        "vfd_min_speed_pct": P(20.0, "%", 0.0, 100.0, doc="VFD minimum speed"),
        "time_constant_s": P(5.0, "s", 0.0, 600.0, doc="actuator + flow response time constant"),
    },
    "sensors": {
        "t_noise_c": P(0.02, "degC", 0.0, 5.0, doc="inlet temperature noise (std dev)"),
        "t_resolution_c": P(0.0625, "degC", 0.0, 5.0, doc="temperature quantisation (DS18B20)"),
        "t_lag_s": P(10.0, "s", 0.0, 600.0, doc="temperature sensor time constant"),
        "flow_noise_m3h": P(0.003, "m3/h", 0.0, 1.0, doc="flow noise (std dev)"),
        "flow_resolution_m3h": P(0.005, "m3/h", 0.0, 1.0, doc="flow quantisation (LXS-DN20)"),
        "flow_lag_s": P(2.0, "s", 0.0, 600.0, doc="flow meter time constant"),
        "seed": P(1.0, "", 0.0, 2.0**31, doc="noise generator seed"),
    },
}


def defaults() -> dict:
    return {sec: {k: p.default for k, p in items.items()} for sec, items in SCHEMA.items()}


def _check(section: str, key: str, value):
    spec = SCHEMA[section][key]
    name = f"{section}.{key}"
    if spec.choices:
        if value not in spec.choices:
            raise PlantConfigError(f"{name}: {value!r} is not one of {', '.join(spec.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlantConfigError(f"{name}: expected a number ({spec.unit or 'no unit'}), "
                               f"got {value!r}")
    value = float(value)
    if not spec.low <= value <= spec.high:  # type: ignore[operator]
        raise PlantConfigError(f"{name}: {value:g} is out of range {spec.low:g}..{spec.high:g} "
                               f"{spec.unit}".rstrip())
    return value


def merge(overrides: dict) -> dict:
    """Defaults with overrides applied, every value checked."""
    values = defaults()
    if not isinstance(overrides, dict):
        raise PlantConfigError("a plant file is a TOML document of [section] tables")
    for section, items in overrides.items():
        if section not in SCHEMA:
            raise PlantConfigError(f"{section}: unknown section; known: {', '.join(SCHEMA)}")
        if not isinstance(items, dict):
            raise PlantConfigError(f"{section}: expected a [table] of parameters")
        for key, value in items.items():
            if key not in SCHEMA[section]:
                raise PlantConfigError(f"{section}.{key}: unknown parameter")
            values[section][key] = _check(section, key, value)
    return values


def load(path: Path | None) -> SimpleNamespace:
    """The plant parameters: defaults, overridden by a TOML file if given."""
    overrides: dict = {}
    if path is not None:
        try:
            with open(path, "rb") as f:
                overrides = tomllib.load(f)
        except FileNotFoundError:
            raise PlantConfigError(f"{path}: no such plant file") from None
        except tomllib.TOMLDecodeError as exc:
            raise PlantConfigError(f"{path}: not valid TOML ({exc})") from None
    return to_namespace(merge(overrides))


def to_namespace(values: dict) -> SimpleNamespace:
    return SimpleNamespace(**{sec: SimpleNamespace(**items) for sec, items in values.items()})
