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


def test_injected_faults_are_shaded_and_named():
    import matplotlib.pyplot as plt

    from host_tools import plots

    fig, axes = plt.subplots(2, 1)
    faults = [{"event": "sensor t_in open", "at_s": 1800.0, "until_s": 2700.0,
               "alarms": ["T_MISSING"], "first_alarm_after_s": 20.0},
              {"event": "stuck_actuator", "at_s": 4500.0, "until_s": None, "alarms": [],
               "first_alarm_after_s": None}]
    plots._shade_faults(axes, faults, [0.0, 4.0])
    assert all(len(ax.patches) == 2 for ax in axes)
    texts = [t.get_text() for t in axes[0].texts]
    assert texts == ["sensor t_in open: T_MISSING after 20 s", "stuck_actuator: no alarm"]
    plt.close(fig)
