"""copflow fit: recovery of known coefficients, R^2, bad CSVs, coefficient files."""

import json

import numpy as np
import pytest

from host_tools.cli import main
from host_tools.fitting import fit_cop, read_csv

HEADER = "season,t_river_c,flow_percent,flow_m3h,t_in_c,t_out_c,q_kw,w_hp_kw,w_pump_kw,head_m," \
         "pump_eff,cop_s,trip\n"


def write_sweep(path, p, t, cop, season="heating", trip=None):
    lines = [HEADER]
    for i, (pi, ti, ci) in enumerate(zip(p, t, cop, strict=True)):
        tr = trip[i] if trip else ""
        lines.append(f"{season},{ti},{pi},{pi * 0.006},{ti},{ti - 3},3.3,1.0,0.12,15,0.2,{ci},"
                     f"{tr}\n")
    path.write_text("".join(lines))


def paper_truth(p, t):
    return -13.38695 + 0.5961950 * p - 0.00546968 * p * p + 9.091 / t


def test_paper_form_recovers_known_coefficients_from_noisy_data(tmp_path):
    rng = np.random.default_rng(5)
    p = np.tile(np.arange(35.0, 76.0, 1.0), 3)
    t = np.repeat([8.0, 11.5, 15.0], 41)
    cop = paper_truth(p, t) + rng.normal(0, 0.01, p.size)
    write_sweep(tmp_path / "d.csv", p, t, cop)
    data, _ = read_csv(tmp_path / "d.csv", "heating")
    fit = fit_cop(data, "paper")
    c = fit.coefficients
    assert c["a1"] == pytest.approx(0.5961950, rel=0.02)
    assert c["a2"] == pytest.approx(-0.00546968, rel=0.02)
    assert c["c"] == pytest.approx(9.091, rel=0.05)
    pred = c["a0"] + c["a1"] * p + c["a2"] * p * p + c["c"] / t
    r2 = 1 - np.sum((cop - pred) ** 2) / np.sum((cop - cop.mean()) ** 2)
    assert fit.r2 == pytest.approx(r2, rel=1e-9)


def test_general_form_recovers_a_moving_optimum(tmp_path):
    rng = np.random.default_rng(9)
    p = np.tile(np.arange(40.0, 121.0, 2.0), 4)
    t = np.repeat([20.0, 24.0, 28.0, 32.0], 41)
    # vertex at 60 + t: a1 + b1 t = 2 * 0.001 * (60 + t)
    cop = 1.0 + 0.002 * (60 + t) * p - 0.001 * p * p + 5.0 / t + rng.normal(0, 0.002, p.size)
    write_sweep(tmp_path / "g.csv", p, t, cop, season="cooling")
    data, _ = read_csv(tmp_path / "g.csv", "cooling")
    c = fit_cop(data, "general").coefficients
    assert c["a1"] == pytest.approx(0.12, abs=0.01)
    assert c["b1"] == pytest.approx(0.002, abs=3e-4)
    assert c["c"] == pytest.approx(5.0, abs=1.0)


@pytest.mark.parametrize(("content", "message"), [
    ("flow_percent,cop_s\n50,3\n", "missing column(s) t_in_c"),
    ("flow_percent,t_in_c,cop_s\n50,11,3\n60,11,abc\n", "row 3, column cop_s: 'abc'"),
    ("flow_percent,t_in_c,cop_s\n50,11,3\n60,11,nan\n", "row 3, column cop_s"),
    ("flow_percent,t_in_c,cop_s\n50,11,3\n60,11,3.1\n", "need at least"),
    ("", "empty file"),
    ("flow_percent,t_in_c,cop_s\n50,11\n", "row 2 has 2 fields"),
])
def test_bad_csv_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["fit", str(path), "--season", "winter"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copflow: ") and message in err, err


def test_unidentifiable_terms_are_named(tmp_path, capsys):
    p = np.arange(40.0, 70.0)
    write_sweep(tmp_path / "one.csv", p, np.full(p.size, 11.5), paper_truth(p, 11.5))
    assert main(["fit", str(tmp_path / "one.csv"), "--season", "winter", "--form",
                 "general"]) == 2
    assert "several temperatures" in capsys.readouterr().err
    # The paper form with one temperature fits, and says c could not be identified.
    assert main(["fit", str(tmp_path / "one.csv"), "--season", "winter", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["coefficients"]["c"] == 0.0 and "cannot be separated" in out["notes"][0]


def test_missing_file(capsys):
    assert main(["fit", "nope.csv", "--season", "summer"]) == 2
    assert capsys.readouterr().err == "copflow: nope.csv: no such file\n"


def test_output_file_merges_seasons_and_loads_in_the_firmware(tmp_path, capsys):
    from host_tools.paths import import_firmware

    p = np.tile(np.arange(35.0, 76.0, 1.0), 3)
    t = np.repeat([8.0, 11.5, 15.0], 41)
    write_sweep(tmp_path / "h.csv", p, t, paper_truth(p, t))
    pc = np.tile(np.arange(75.0, 111.0, 1.0), 3)
    tc = np.repeat([22.0, 27.6, 32.0], 36)
    cool = -80.16973 + 1.832 * pc - 0.010 * pc * pc + 12.81 / tc
    write_sweep(tmp_path / "c.csv", pc, tc, cool, season="cooling")
    out = tmp_path / "coeffs.json"
    assert main(["fit", str(tmp_path / "h.csv"), "--season", "winter", "-o", str(out)]) == 0
    assert main(["fit", str(tmp_path / "c.csv"), "--season", "summer", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {"cooling", "heating"} <= set(doc)
    import_firmware()
    from core.controller import Controller

    c = Controller()
    c.load_coeffs(doc, merge=False)
    assert abs(c.model(2).optimum(11.5, 35, 75) - 54.5) < 0.5


def test_an_invalid_set_is_not_written(tmp_path, capsys):
    p = np.tile(np.arange(40.0, 70.0), 2)
    t = np.repeat([10.0, 13.0], 30)
    write_sweep(tmp_path / "conv.csv", p, t, 1.0 + 0.0005 * (p - 55) ** 2 + 0.0 / t)
    out = tmp_path / "x.json"
    assert main(["fit", str(tmp_path / "conv.csv"), "--season", "winter", "-o", str(out)]) == 2
    assert "vertex" in capsys.readouterr().err
    assert not out.exists()


def test_tuning_loop_closes_on_the_default_plant(tmp_path, capsys):
    """sweep -> fit -o -> sim --coeffs: within 1 % of the oracle, ahead of constant flow.

    The sweep holds the river at the season's bench temperature, as the paper's
    test did; the fit regresses on the river temperature (docs/fitting.md).
    """
    coeffs = tmp_path / "c.json"
    for season, flows in (("summer", "70:112:1"), ("winter", "40:75:1")):
        data = tmp_path / f"{season}.csv"
        assert main(["sweep", "--season", season, "--flows", flows, "-o", str(data)]) == 0
        assert main(["fit", str(data), "--season", season, "--temp-column", "t_river_c",
                     "-o", str(coeffs)]) == 0
    capsys.readouterr()
    for season in ("summer", "winter"):
        assert main(["sim", "--season", season, "--hours", "24", "--coeffs", str(coeffs),
                     "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["ratio_to_oracle"] >= 0.99, result
        assert result["cop_s"] > result["baseline_cop_s"], result


@pytest.mark.parametrize("season", ["summer", "winter"])
def test_shipped_examples_fit_to_a_valid_set(season, capsys):
    from host_tools.paths import DATA_DIR

    path = DATA_DIR / f"example-sweep-{season}.csv"
    assert main(["fit", str(path), "--season", season, "--temp-column", "t_river_c",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"]
