"""Plant files: defaults, overrides, and one-line errors naming the key, value and range."""

import tomllib

import pytest

from host_tools.errors import CopflowError
from host_tools.paths import DATA_DIR, PROJECT_ROOT
from host_tools.plant import doc, params


@pytest.mark.parametrize(("toml", "message"), [
    ("[coil]\nlenght_m = 10\n", "coil.lenght_m: unknown parameter"),
    ("[coil]\nlength_m = 'long'\n", "coil.length_m: expected a number"),
    ("[coil]\nlength_m = true\n", "coil.length_m: expected a number"),
    ("[unit]\nq_cooling_kw = -1\n", "unit.q_cooling_kw: -1 is out of range 0.1..5000"),
    ("[pump]\nmotor_eff = 1.5\n", "pump.motor_eff: 1.5 is out of range 0.05..1"),
    ("[river]\nt_summer_c = nan\n", "river.t_summer_c: nan is out of range"),
    ("[actuator]\nkind = 'gearbox'\n", "actuator.kind: 'gearbox' is not one of valve, vfd"),
    ("[pumps]\nh0_m = 1\n", "pumps: unknown section"),
    ("coil = 3\n", "coil: expected a [table]"),
    ("[sensors]\nseed = 1.5\n", "sensors.seed: 1.5 is not an integer"),
    ("[coil]\nwall_mm = 13\n", "coil.wall_mm: 13 leaves no bore"),
    ("[coil\n", "not valid TOML"),
])
def test_plant_file_errors_name_the_key(tmp_path, toml, message):
    path = tmp_path / "plant.toml"
    path.write_text(toml)
    with pytest.raises(params.PlantConfigError) as info:
        params.load(path)
    assert message in str(info.value)
    assert isinstance(info.value, CopflowError)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(params.PlantConfigError, match="no such plant file"):
        params.load(tmp_path / "nope.toml")


def test_a_file_overrides_a_subset(tmp_path):
    path = tmp_path / "plant.toml"
    path.write_text("[coil]\nlength_m = 80\n[actuator]\nkind = 'vfd'\n")
    loaded = params.load(path)
    assert loaded.coil.length_m == 80.0 and loaded.actuator.kind == "vfd"
    assert loaded.pump.h0_m == 25.0 and loaded.unit.design_flow_m3h == 0.6


def test_shipped_default_file_holds_every_default_and_is_current():
    text = (DATA_DIR / "plant-default.toml").read_text()
    assert text == doc.default_toml(), "regenerate: python -m host_tools.plant.doc --toml"
    assert params.merge(tomllib.loads(text)) == params.defaults()


def test_shipped_vfd_file_loads():
    assert params.load(DATA_DIR / "plant-vfd.toml").actuator.kind == "vfd"


def test_docs_carry_the_current_parameter_table():
    text = (PROJECT_ROOT / "docs" / "plant.md").read_text()
    assert doc.table() in text, "regenerate it: python -m host_tools.plant.doc"


def test_bench_nameplate_defaults():
    d = params.defaults()
    assert d["unit"]["rated_cooling_kw"] == 2.7 and d["unit"]["rated_heating_kw"] == 3.3
    assert d["unit"]["rated_input_cooling_kw"] == 0.731
    assert d["unit"]["rated_input_heating_kw"] == 0.8
    assert d["unit"]["design_flow_m3h"] == 0.6 and d["unit"]["dp_design_kpa"] == 15.9
    assert d["river"]["t_summer_c"] == 27.6 and d["river"]["t_winter_c"] == 11.5
    assert d["unit"]["q_cooling_kw"] == 2.8 and d["unit"]["q_heating_kw"] == 3.3
