"""`copflow campaign` (issue 12): plants x seasons x controllers as SIL runs on a
Dask LocalCluster; the rows are the runs' own figures whatever the spread over
workers, and bad inputs stop it before any run."""

import json
from pathlib import Path

import pytest

from host_tools import campaign
from host_tools.cli import main
from host_tools.errors import CopflowError

PLANTS = [campaign.PLANTS_DIR / "long-pipes-vfd.toml", campaign.PLANTS_DIR / "linear-valve.toml"]


def test_the_shipped_population_has_a_dozen_plants_half_with_a_vfd():
    plants = campaign.shipped_plants()
    assert len(plants) >= 12
    vfd = [p for p in plants if 'kind = "vfd"' in p.read_text()]
    assert len(vfd) * 2 >= len(plants)
    for p in plants:  # each says what installation it stands for
        assert p.read_text().startswith("# "), p.name


def test_rows_on_two_workers_are_the_runs_own_figures(capsys, tmp_path):
    assert main(["campaign", *map(str, PLANTS), "--seasons", "winter", "--hours", "0.1",
                 "--optimiser", "model,constant", "--workers", "2", "--json",
                 "--out", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["plant"], r["optimiser"]) for r in rows] == [
        ("long-pipes-vfd", "model"), ("long-pipes-vfd", "constant"),
        ("linear-valve", "model"), ("linear-valve", "constant")]
    for r in rows:
        for key in ("ratio_to_oracle", "ratio_last_hour", "baseline_ratio",
                    "hours_to_within_2pct", "energy_saved_kwh"):
            assert key in r
        assert r["season"] == "heating"
    direct = campaign.run_job(campaign.Job(str(PLANTS[0]), "heating", "model", 0.1, 1.0))
    assert rows[0] == json.loads(json.dumps(direct))  # same figures off the cluster
    constant = rows[1]
    assert constant["ratio_to_oracle"] == pytest.approx(constant["baseline_ratio"], rel=1e-9)
    assert constant["energy_saved_kwh"] == pytest.approx(0.0, abs=1e-9)
    assert (tmp_path / "campaign.csv").read_text().splitlines()[0].startswith("plant,season")
    assert (tmp_path / "campaign.png").stat().st_size > 0


@pytest.mark.parametrize("plants, seasons, optimisers, words", [
    ([Path("no-such-plant.toml")], ["winter"], ["model"], "no-such-plant"),
    (PLANTS, ["spring"], ["model"], "unknown season"),
    (PLANTS, ["winter"], ["rls"], "unknown optimiser"),
])
def test_bad_inputs_stop_before_any_run(plants, seasons, optimisers, words):
    with pytest.raises(CopflowError, match=words):
        campaign.jobs(plants, seasons, optimisers, 1.0)
