"""The on-line optimiser in SIL (host_tools/sim.py): `copflow sim --optimiser`, campaigns
with `online` and `excitation`, and `model` as today's behaviour. Short runs (one to
two simulated hours); the 24 h figures are docs/optimiser.md's, from `copflow campaign`."""

import json
from pathlib import Path

import pytest

from host_tools import campaign, sim
from host_tools.errors import CopflowError
from host_tools.plant import params
from host_tools.plant.plant import Plant

PLANTS = Path(campaign.__file__).resolve().parent / "data" / "plants"


def _run(plant: str, season: str, controller: str, hours: float = 1.0):
    pp = params.load(PLANTS / f"{plant}.toml")
    return sim.run_season(lambda s: Plant(pp, s), season, hours, 1.0, controller)


def test_online_leaves_the_models_optimum_for_the_plants():
    model = _run("long-pipes-vfd", "cooling", "model")
    online = _run("long-pipes-vfd", "cooling", "online")
    true = online.optimal_percent_true
    assert model.flow_percent_final == pytest.approx(91.6, abs=1.5)
    assert abs(online.flow_percent_final - true) < abs(model.flow_percent_final - true) - 10.0
    assert online.ratio_last_hour > model.ratio_last_hour
    assert online.controller == "online" and model.controller == "model"


def test_model_is_the_models_optimum_every_sample():
    result = _run("fouled-coil-vfd", "heating", "model", hours=0.5)
    s = result.series
    assert s["flow_sp_percent"][1:] == pytest.approx(s["p_opt_percent"][1:], abs=1e-9)


def test_excitation_pins_the_centre_to_the_true_optimum():
    result = _run("long-pipes-vfd", "heating", "excitation")
    assert result.controller == "excitation"
    s = result.series
    late = range(len(s["time_h"]) // 2, len(s["time_h"]))
    for i in late:  # the setpoint stays within a dither of the plant's optimum
        assert abs(s["flow_sp_percent"][i] - s["optimal_percent_true"][i]) <= 4.0 + 0.5


def test_campaign_takes_the_optimisers_and_refuses_others():
    jobs = campaign.jobs([PLANTS / "linear-valve.toml"], ["summer"],
                         ["online", "model", "excitation", "constant"], 1.0)
    assert [j.optimiser for j in jobs] == ["online", "model", "excitation", "constant"]
    with pytest.raises(CopflowError, match="unknown optimiser 'rls'"):
        campaign.jobs([PLANTS / "linear-valve.toml"], ["summer"], ["rls"], 1.0)


def test_sim_command_takes_the_optimiser(capsys):
    from host_tools.cli import main

    assert main(["sim", "--season", "winter", "--hours", "0.2", "--plant",
                 str(PLANTS / "short-coil-vfd.toml"), "--optimiser", "model", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["controller"] == "model"
    assert {"ratio_last_hour", "hours_to_within_2pct", "ratio_to_oracle"} <= set(out)
    assert "excitation_cost" not in out
    # The default (online) also runs the same optimiser pinned to the true optimum.
    assert main(["sim", "--season", "winter", "--hours", "0.2", "--plant",
                 str(PLANTS / "short-coil-vfd.toml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["controller"] == "online"
    assert -0.01 < out["excitation_cost"] < 0.05, out
    with pytest.raises(SystemExit):
        main(["sim", "--season", "winter", "--optimiser", "rls"])
