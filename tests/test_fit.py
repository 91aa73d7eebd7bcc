"""copflow fit: recovery of known coefficients, R^2, bad CSVs, coefficient files."""

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- readers, solver and file checks (property tests kept small: the suite stays fast) -----

SWEEP_COLUMNS = HEADER.strip().split(",")


def _sweep_row(season, p, t, cop, trip):
    return (f"{season},{t:g},{p:g},{p * 0.006:g},{t:g},{t - 3:g},3.3,{0.6 + 0.01 * t:g},"
            f"{0.05 + p * 1e-3:g},{25 - p * 0.05:g},{0.1 + p * 1e-3:g},{cop:g},{trip}\n")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cooling", "heating", "summer", "winter", ""]),
                          st.floats(20, 130), st.floats(1, 35), st.floats(0.5, 6),
                          st.sampled_from(["", "", "", "freeze", "head_pressure"])),
                min_size=1, max_size=30),
       st.sampled_from(["cooling", "heating"]))
def test_fast_reader_agrees_with_the_row_reader(rows, season):
    from host_tools.fitting import _read_fast, _read_rows

    text = HEADER + "".join(_sweep_row(*r) for r in rows)
    f = io.StringIO(text)
    f.readline()
    fast = _read_fast(f, SWEEP_COLUMNS, season)
    slow = _read_rows("x.csv", io.StringIO(text), SWEEP_COLUMNS, season)
    assert fast is not None
    assert fast[1:] == slow[1:]
    assert fast[0].keys() == slow[0].keys()
    for k in slow[0]:
        np.testing.assert_array_equal(fast[0][k], slow[0][k])


def test_tripped_and_other_season_rows_are_left_out(tmp_path, capsys):
    p = np.arange(40.0, 80.0)
    trip = ["freeze" if pi < 45 else "" for pi in p]
    write_sweep(tmp_path / "d.csv", p, np.full(p.size, 11.5), paper_truth(p, 11.5), trip=trip)
    with open(tmp_path / "d.csv", "a") as f:
        f.write(_sweep_row("cooling", 90.0, 27.6, 3.0, ""))
    assert main(["fit", str(tmp_path / "d.csv"), "--season", "winter", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["n"], out["skipped_tripped"]) == (35, 5)


@settings(max_examples=25, deadline=None)
@given(st.floats(35.0, 110.0), st.floats(-0.02, -0.002), st.floats(-20.0, 20.0),
       st.floats(0.5, 4.0))
def test_paper_form_recovers_exact_coefficients(vertex, a2, c, level):
    p = np.tile(np.linspace(vertex - 20, vertex + 20, 21), 3)
    t = np.repeat([8.0, 15.0, 27.0], 21)
    a1 = -2 * a2 * vertex
    a0 = level - a1 * vertex - a2 * vertex ** 2
    cop = a0 + a1 * p + a2 * p * p + c / t
    fit = fit_cop({"flow_percent": p, "t_in_c": t, "cop_s": cop}, "paper")
    got = fit.coefficients
    assert got["a1"] == pytest.approx(a1, rel=1e-6)
    assert got["a2"] == pytest.approx(a2, rel=1e-6)
    assert got["c"] == pytest.approx(c, abs=1e-6)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)


def test_general_form_matches_numpy_lstsq_and_its_r2():
    rng = np.random.default_rng(2)
    p = rng.uniform(40, 120, 400)
    t = rng.choice([20.0, 24.0, 28.0, 32.0], 400)
    cop = 1.0 + 0.002 * (60 + t) * p - 0.001 * p * p + 5.0 / t + rng.normal(0, 0.01, 400)
    fit = fit_cop({"flow_percent": p, "t_in_c": t, "cop_s": cop}, "general")
    x = np.column_stack([np.ones_like(p), p, p * p, 1 / t, p ** 3] + [t * p ** i
                                                                       for i in range(4)])
    beta = np.linalg.lstsq(x, cop, rcond=None)[0]
    pred = x @ beta
    r2 = 1 - np.sum((cop - pred) ** 2) / np.sum((cop - cop.mean()) ** 2)
    assert fit.r2 == pytest.approx(r2, rel=1e-9)
    assert fit.rmse == pytest.approx(np.sqrt(np.mean((cop - pred) ** 2)), rel=1e-6)
    names = ["a0", "a1", "a2", "c", "a3", "b0", "b1", "b2", "b3"]
    # predictions agree to far below the noise (the coefficients themselves are correlated)
    got = np.array([fit.coefficients[k] for k in names])
    assert np.max(np.abs(x @ got - pred)) < 1e-8


@pytest.mark.parametrize(("content", "message"), [
    ("flow_percent,t_in_c,cop_s\n50,11,3\n60,11,inf\n", "row 3, column cop_s: 'inf' is not fin"),
    ("\n\n", "empty file"),
    ("flow_percent,t_in_c,cop_s\n", "no data rows"),
    (HEADER + _sweep_row("heating", 50, 11, 3, "freeze"), "all 1 heating rows are tripped"),
    (HEADER + _sweep_row("cooling", 50, 11, 3, ""), "no heating rows (1 rows of another"),
    (HEADER + _sweep_row("wintr", 50, 11, 3, ""), "row 2, column season: 'wintr'"),
    ("flow_percent,t_in_c,cop_s\n" + "50,11,3\n60,12,3\n" * 3, "2 distinct flow(s)"),
    ("flow_percent,t_in_c,cop_s\n" + "".join(f"{p},{t},3\n" for p in (40, 50, 60)
                                              for t in (10, 12, 14)),
     "need at least 10"),
])
def test_more_bad_input_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    form = ["--form", "general"] if "need at least 10" in message else []
    assert main(["fit", str(path), "--season", "winter", *form]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copflow: ") and err.count("\n") == 1 and message in err, err


def test_general_form_with_one_temperature_names_the_terms(tmp_path, capsys):
    p = np.arange(40.0, 70.0)
    write_sweep(tmp_path / "one.csv", p, np.full(p.size, 11.5), paper_truth(p, 11.5))
    assert main(["fit", str(tmp_path / "one.csv"), "--season", "winter", "--form",
                 "general"]) == 2
    assert "b0..b3 and c cannot be identified" in capsys.readouterr().err


def test_collinear_columns_are_named():
    from host_tools.errors import CopflowError
    from host_tools.fitting import least_squares

    x = np.linspace(0, 1, 50)
    with pytest.raises(CopflowError, match="cannot identify the term.s. u, v"):
        least_squares(x * 2 + 1, {"one": np.ones(50), "u": x, "v": 3 * x}, "test")


def _two_season_files(tmp_path):
    p = np.tile(np.arange(35.0, 76.0, 1.0), 3)
    t = np.repeat([8.0, 11.5, 15.0], 41)
    write_sweep(tmp_path / "h.csv", p, t, paper_truth(p, t))
    pc = np.tile(np.arange(75.0, 111.0, 1.0), 3)
    tc = np.repeat([22.0, 27.6, 32.0], 36)
    write_sweep(tmp_path / "c.csv", pc, tc, -80.16973 + 1.832 * pc - 0.010 * pc * pc + 12.81 / tc,
                season="cooling")


def test_written_file_passes_the_firmware_validator(tmp_path, capsys):
    from core import coeffs, config

    _two_season_files(tmp_path)
    out = tmp_path / "set.json"
    assert main(["fit", str(tmp_path / "h.csv"), "--season", "heating", "-o", str(out)]) == 0
    first = json.loads(out.read_text())
    assert first["format"] == "copflow-coeffs/1" and first["name"] == "set"
    assert first["source"] == "copflow fit h.csv --form paper"
    assert "cooling" not in first
    assert main(["fit", str(tmp_path / "c.csv"), "--season", "cooling", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["heating"] == first["heating"]  # the other season is kept
    params = config.default_params()
    for season in ("cooling", "heating"):
        model = coeffs.parse_season(season, doc[season])
        coeffs.validate_season(season, model, params[f"p_min_{season}"],
                               params[f"p_max_{season}"], params["cop_min"], params["cop_max"])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_force_writes_an_invalid_set_and_foreign_files_are_kept(tmp_path, capsys):
    p = np.tile(np.arange(40.0, 70.0), 2)
    t = np.repeat([10.0, 13.0], 30)
    write_sweep(tmp_path / "conv.csv", p, t, 1.0 + 0.0005 * (p - 55) ** 2)
    out = tmp_path / "x.json"
    assert main(["fit", str(tmp_path / "conv.csv"), "--season", "winter", "-o", str(out),
                 "--force"]) == 0
    assert "heating" in json.loads(out.read_text())
    foreign = tmp_path / "mine.json"
    foreign.write_text('{"not": "coefficients"}')
    _two_season_files(tmp_path)
    assert main(["fit", str(tmp_path / "h.csv"), "--season", "winter", "-o",
                 str(foreign)]) == 2
    assert "not a copflow-coeffs/1 file" in capsys.readouterr().err
    assert foreign.read_text() == '{"not": "coefficients"}'


def test_json_has_the_documented_keys(tmp_path, capsys):
    _two_season_files(tmp_path)
    assert main(["fit", str(tmp_path / "h.csv"), "--season", "winter", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"season", "form", "n", "skipped_tripped", "coefficients", "r2", "rmse",
                        "optimum_percent", "cop_at_optimum", "t_ref", "valid", "validity_error",
                        "notes", "components", "output_file", "temp_column"}
    assert out["temp_column"] == "t_river_c"
    assert set(out["coefficients"]) == {"a", "b", "c"}
    assert out["valid"] is True and out["validity_error"] is None
    assert out["optimum_percent"] == pytest.approx(54.5, abs=0.3)
    assert set(out["components"]) == {"unit_power_kw", "pump_power_kw", "pump_head_m",
                                      "pump_eff"}
    assert set(out["components"]["pump_head_m"]) == {"coefficients", "r2", "n"}


def test_inlet_temperature_that_moves_with_flow_is_flagged(capsys):
    from host_tools.paths import DATA_DIR

    assert main(["fit", str(DATA_DIR / "example-sweep-summer.csv"), "--season", "summer",
                 "--temp-column", "t_in_c", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("confounded with flow" in note for note in out["notes"])


def test_default_temperature_is_the_river_and_a_confounded_inlet_is_refused(tmp_path, capsys):
    """A default sweep fits with defaults (t_river_c); a CSV with only an inlet
    temperature that moves with flow is refused, naming the fix (issue 14)."""
    from host_tools.paths import DATA_DIR

    out = tmp_path / "s.json"
    assert main(["fit", str(DATA_DIR / "example-sweep-summer.csv"), "--season", "summer",
                 "-o", str(out)]) == 0
    assert "t_river_c" in capsys.readouterr().out and out.exists()
    lines = (DATA_DIR / "example-sweep-summer.csv").read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "t_river_c"]
    inlet = tmp_path / "inlet.csv"
    inlet.write_text("\n".join(",".join(row.split(",")[i] for i in keep) for row in lines))
    assert main(["fit", str(inlet), "--season", "summer", "-o", str(tmp_path / "i.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "t_in_c moves with flow" in err
    assert "t_river_c" in err and "--temp-column t_in_c" in err
    assert not (tmp_path / "i.json").exists()


def test_bench_fit_reports_its_timings():
    from host_tools.fitting import bench_fit

    result = bench_fit(3000)
    assert result["rows"] == 3000
    assert {"parse_s", "fit_s", "components_s", "total_s"} <= set(result)
    assert result["a1"] == pytest.approx(0.596195, rel=0.02)
