"""`copflow sweep` writes the paper's experiment as CSV."""

import csv

import pytest

from host_tools.cli import main
from host_tools.commands.sweep import COLUMNS
from host_tools.paths import DATA_DIR

EXPECTED = ["season", "t_river_c", "flow_percent", "flow_m3h", "t_in_c", "t_out_c", "q_kw",
            "w_hp_kw", "w_pump_kw", "head_m", "pump_eff", "cop_s", "trip"]


def test_sweep_writes_the_columns_in_order(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "--season", "winter", "--flows", "20:62:2", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(COLUMNS) == EXPECTED and list(rows[0]) == EXPECTED
    assert len(rows) == 22 and {r["season"] for r in rows} == {"heating"}
    assert rows[0]["trip"] == "freeze" and rows[-1]["trip"] == ""  # tripped points stay in
    assert float(rows[0]["q_kw"]) == 0.0
    assert "wrote 22 points" in capsys.readouterr().out


def test_sweep_several_temperatures_with_a_plant_file(tmp_path):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "--plant", str(DATA_DIR / "plant-vfd.toml"), "--season", "cooling",
                 "--temps", "20", "27.6", "--flows", "50:100:10", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["t_river_c"] for r in rows] == ["20"] * 6 + ["27.6"] * 6
    assert all(float(r["cop_s"]) > 0 for r in rows)


@pytest.mark.parametrize(("argv", "message"), [
    (["--flows", "1:x"], "expected START:STOP:STEP"),
    (["--flows", "50:40:1"], "need 0 < START <= STOP"),
    (["--flows", "300:400:10"], "no flow in the grid is reachable"),
    (["--temps", "60"], "--temps: 60 degC is outside"),
])
def test_sweep_user_errors_are_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "x.csv"
    assert main(["sweep", "--season", "summer", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
