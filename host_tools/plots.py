"""PNG plots for simulation and HIL results (matplotlib, no display needed)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from host_tools.paths import import_firmware  # noqa: E402

# The paper's measured points (seed paper, section 3): optimum and range ends.
PAPER_POINTS = {
    "cooling": [(91.6, 3.45)],
    "heating": [(54.5, 3.01)],
}


def time_series(result, path: Path) -> None:
    s = result.series
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    axes[0].plot(s["time_h"], s["flow_percent"], label="flow")
    axes[0].plot(s["time_h"], s["flow_sp_percent"], "--", label="setpoint")
    axes[0].plot(s["time_h"], s["optimal_percent_true"], ":", label="plant optimum")
    axes[0].set_ylabel("flow, % of design")
    axes[0].legend(loc="best")
    axes[1].plot(s["time_h"], s["cop_s"], label="controlled")
    axes[1].plot(s["time_h"], s["cop_s_oracle"], ":", label="oracle")
    axes[1].set_ylabel("COP_s")
    axes[1].legend(loc="best")
    axes[2].plot(s["time_h"], s["t_river_c"], label="river")
    axes[2].plot(s["time_h"], s["t_in_c"], label="unit inlet")
    axes[2].set_ylabel("temperature, degC")
    axes[2].set_xlabel("time, h")
    axes[2].legend(loc="best")
    fig.suptitle(f"{result.season}: COP_s {result.cop_s:.3f} "
                 f"(oracle {result.oracle_cop_s:.3f}, constant flow {result.baseline_cop_s:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cop_curve(pp, season: str, path: Path, coeffs: dict | None = None) -> None:
    """COP_s against flow: the plant's truth, the firmware model, the paper's points."""
    import_firmware()
    from core import coeffs as coeff_mod
    from core import presets
    from host_tools.plant.plant import Plant

    plant = Plant(pp, season)
    t = plant.bench_t_river_c
    tab = plant.table(t)
    fig, ax = plt.subplots(figsize=(8, 5))
    ok = tab["trip"] == 0
    ax.plot(tab["pct"][ok], tab["cop"][ok], label="plant (truth)")
    data = coeffs or presets.preset("default")
    if season in data:
        model = coeff_mod.parse_season(season, data[season])
        xs = [p for p in tab["pct"] if model.p_lo <= p <= model.p_hi]
        ax.plot(xs, [model.cop(p, t) for p in xs], "--", label=f"model ({data.get('name')})")
    for i, (p, cop) in enumerate(PAPER_POINTS[season]):
        ax.plot([p], [cop], "ko", label="paper, measured optimum" if i == 0 else None)
    best = plant.optimum(t)
    ax.plot([best.flow_percent], [best.cop_s], "r^", label="plant optimum")
    ax.set_xlabel("flow, % of design")
    ax.set_ylabel("COP_s")
    ax.set_title(f"{season} at {t:.1f} degC")
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
