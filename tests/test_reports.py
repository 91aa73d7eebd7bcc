"""Summaries state the energy saved against constant flow; plots mark where the
firmware settled (issue 14)."""

import json

import pytest

from host_tools.cli import main


def test_sim_summary_has_kwh_saved_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sim", "--season", "winter", "--hours", "1", "--json", "--out", str(out)]) == 0
    s = json.loads(capsys.readouterr().out)
    expected = s["heat_kwh"] / s["baseline_cop_s"] - s["electric_kwh"]
    assert s["kwh_saved_vs_constant"] == pytest.approx(expected)
    assert s["kwh_saved_vs_constant"] > 0  # the optimiser beats constant design flow
    for name in ("timeseries.png", "cop_vs_flow.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert main(["sim", "--season", "winter", "--hours", "0.2"]) == 0
    assert "kWh of electricity against constant 100 % flow" in capsys.readouterr().out
