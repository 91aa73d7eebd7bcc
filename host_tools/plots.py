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
    axes[0].axhline(100.0, color="grey", linewidth=0.8, linestyle="-.",
                    label="constant design flow")
    axes[0].set_ylabel("flow, % of design")
    axes[0].legend(loc="best")
    axes[1].plot(s["time_h"], s["cop_s"], label="controlled")
    axes[1].plot(s["time_h"], s["cop_s_oracle"], ":", label="oracle")
    axes[1].axhline(result.baseline_cop_s, color="grey", linewidth=0.8, linestyle="-.",
                    label="constant design flow (run average)")
    axes[1].set_ylabel("COP_s")
    _no_noise(axes[1])
    axes[1].legend(loc="best")
    axes[2].plot(s["time_h"], s["t_river_c"], label="river")
    axes[2].plot(s["time_h"], s["t_in_c"], label="unit inlet")
    axes[2].set_ylabel("temperature, degC")
    axes[2].set_xlabel("time, h")
    axes[2].legend(loc="best")
    _shade_faults(axes, getattr(result, "faults", None) or [], s["time_h"])
    fig.suptitle(f"{result.season}: COP_s {result.cop_s:.3f} "
                 f"(oracle {result.oracle_cop_s:.3f}, constant flow {result.baseline_cop_s:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _shade_faults(axes, faults: list[dict], time_h: list[float]) -> None:
    """Each injected fault (a scenario event's FaultWatch row) shaded over its span on
    every axis, named on the top one with what the board did: the alarms it raised
    and when, or `no alarm`."""
    end_h = time_h[-1] if time_h else 0.0
    for i, row in enumerate(faults):
        start = row["at_s"] / 3600.0
        stop = row["until_s"] / 3600.0 if row.get("until_s") is not None else end_h
        if stop <= start:
            stop = start + max(end_h, 1e-6) * 0.005  # a step: a thin band
        color = "tab:red" if row.get("first_alarm_after_s") is None else "tab:purple"
        for ax in axes:
            ax.axvspan(start, stop, color=color, alpha=0.12, linewidth=0)
        caught = (f"{' '.join(row['alarms'])} after {row['first_alarm_after_s']:.0f} s"
                  if row.get("first_alarm_after_s") is not None and row.get("alarms")
                  else "no alarm")
        axes[0].annotate(f"{row['event']}: {caught}", xy=(start, 1.0 - 0.09 * (i % 5)),
                         xycoords=("data", "axes fraction"), fontsize=7, va="top",
                         color=color)


def _no_noise(ax, span: float = 0.02) -> None:
    """A trace that moves by less than `span` is drawn on an axis at least that tall,
    so +-0.001 of float noise does not fill the plot like a signal."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (hi + lo) / 2.0
        ax.set_ylim(mid - span / 2.0, mid + span / 2.0)


def cop_curve(pp, season: str, path: Path, coeffs: dict | None = None,
              settled: float | None = None) -> None:
    """COP_s against flow at the bench temperature: the plant's measured curve (the
    truth), where the firmware settled on it, the model's curve and its peak, the
    plant's optimum and the paper's point. The caption says how far the model's peak
    is from the plant's and why they differ."""
    import_firmware()
    from core import coeffs as coeff_mod
    from core import presets
    from host_tools.plant.plant import Plant

    plant = Plant(pp, season)
    t = plant.bench_t_river_c
    tab = plant.table(t)
    fig, ax = plt.subplots(figsize=(8, 5.6))
    ok = tab["trip"] == 0
    ax.plot(tab["pct"][ok], tab["cop"][ok], label="plant, measured COP_s (truth)")
    data = coeffs or presets.preset("default")
    caption = ""
    best = plant.optimum(t)
    if season in data:
        model = coeff_mod.parse_season(season, data[season])
        xs = [p for p in tab["pct"] if model.p_lo <= p <= model.p_hi]
        ys = [model.cop(p, t) for p in xs]
        name = data.get("name", "set")
        ax.plot(xs, ys, "--", label=f"model COP_s ({name})")
        if ys:
            i = max(range(len(ys)), key=ys.__getitem__)
            ax.plot([xs[i]], [ys[i]], "v", color="tab:orange", label="model peak")
            caption = (f"model ({name}) peaks at {xs[i]:.1f} % with COP_s {ys[i]:.2f}; the "
                       f"plant at {best.flow_percent:.1f} % with {best.cop_s:.2f}. The model's "
                       f"level is its bench's, not this plant's: the firmware uses only where "
                       f"its peak lies, so a level offset costs nothing, a shifted peak does "
                       f"(copflow sweep --refine, fit, coeffs push).")
    for i, (p, cop) in enumerate(PAPER_POINTS[season]):
        ax.plot([p], [cop], "ko", label="paper, measured optimum" if i == 0 else None)
    ax.plot([best.flow_percent], [best.cop_s], "r^", label="plant optimum")
    if settled is not None and tab["pct"][ok].size:
        import numpy as np

        cop_at = float(np.interp(settled, tab["pct"][ok], tab["cop"][ok]))
        ax.plot([settled], [cop_at], "s", color="tab:green", markersize=11, mfc="none",
                markeredgewidth=2, label=f"firmware settled: {settled:.1f} %, COP_s {cop_at:.3f}")
    ax.set_xlabel("flow, % of design")
    ax.set_ylabel("COP_s")
    ax.set_title(f"{season} at {t:.1f} degC")
    ax.legend(loc="best", fontsize="small")
    if caption:
        fig.text(0.01, 0.01, caption, fontsize=7.5, wrap=True, va="bottom")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def telemetry(rows: dict[str, list], path: Path, title: str) -> None:
    """A `copflow log` CSV over time: flow, its setpoint, the optimum and the output;
    the inlet temperature; the model's and the measured COP_s; and a lane with the
    state and each alarm while it was active. Missing values are gaps, not zeros."""
    import math

    t = rows["t_s"]
    scale, unit = (3600.0, "h") if t and t[-1] > 7200 else (60.0, "min") \
        if t and t[-1] > 300 else (1.0, "s")
    x = [v / scale for v in t]
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True,
                             gridspec_kw={"height_ratios": [3, 2, 2, 1.4]})
    for key, style, label in (("flow_pct", "-", "flow"), ("flow_sp_pct", "--", "setpoint"),
                              ("p_opt_pct", ":", "model optimum"),
                              ("output_pct", "-.", "output")):
        axes[0].plot(x, rows[key], style, label=label)
    axes[0].set_ylabel("% of design flow")
    axes[0].legend(loc="best", fontsize="small")
    axes[1].plot(x, rows["t_in_c"], label="unit inlet")
    axes[1].set_ylabel("temperature, degC")
    axes[2].plot(x, rows["cop_model"], label="model")
    axes[2].plot(x, rows["cop_meas"], label="measured")
    axes[2].set_ylabel("COP_s")
    axes[2].legend(loc="best", fontsize="small")
    # state/alarm lane: one row per state and alarm name seen, marked while active
    lanes = sorted({s for s in rows["state"] if s}) + sorted(
        {a for names in rows["alarms"] for a in names.split()})
    for i, lane in enumerate(lanes):
        on = [xi for xi, s, a in zip(x, rows["state"], rows["alarms"], strict=True)
              if s == lane or lane in a.split()]
        axes[3].plot(on, [i] * len(on), "|", markersize=8,
                     color="tab:red" if lane not in rows["state"] else "tab:blue")
    axes[3].set_yticks(range(len(lanes)), lanes, fontsize="small")
    axes[3].set_ylim(-0.5, max(0.5, len(lanes) - 0.5))
    axes[3].set_xlabel(f"time, {unit}")
    for ax in axes[:3]:
        # a trace that is constant to 0.1 % shows as a line, not as noise
        lo, hi = ax.get_ylim()
        values = [v for line in ax.get_lines() for v in line.get_ydata()
                  if isinstance(v, float) and not math.isnan(v)]
        if values and max(values) - min(values) < 1e-3 * max(1.0, abs(max(values))):
            mid = (max(values) + min(values)) / 2
            ax.set_ylim(mid - 0.05 * max(1.0, abs(mid)), mid + 0.05 * max(1.0, abs(mid)))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def campaign_ratios(rows: list[dict], path: Path) -> None:
    """A campaign's COP_s / oracle per plant, one panel per season, a bar per
    optimiser, and constant design flow as a marker: where each controller
    stands against what the plant allows."""
    seasons = sorted({r["season"] for r in rows})
    optimisers = sorted({r["optimiser"] for r in rows})
    plants = sorted({r["plant"] for r in rows})
    fig, axes = plt.subplots(len(seasons), 1, figsize=(10, 3.2 * len(seasons) + 1),
                             squeeze=False)
    width = 0.8 / max(1, len(optimisers))
    for ax, season in zip(axes[:, 0], seasons, strict=True):
        for j, opt in enumerate(optimisers):
            got = {r["plant"]: r for r in rows if r["season"] == season and r["optimiser"] == opt}
            xs = [i + (j - (len(optimisers) - 1) / 2) * width for i in range(len(plants))]
            values = [got[p]["ratio_to_oracle"] if p in got else 0.0 for p in plants]
            ax.bar(xs, values, width=width, label=opt)
            for x, v in zip(xs, values, strict=True):
                if v < 0.85:  # off the scale: say how far
                    ax.annotate(f"{v:.2f}", (x, 0.852), ha="center", fontsize=8, color="red")
        base = {r["plant"]: r["baseline_ratio"] for r in rows if r["season"] == season}
        ax.plot(range(len(plants)), [base.get(p, float("nan")) for p in plants], "k_",
                markersize=14, label="constant design flow")
        ax.axhline(0.995, color="grey", linestyle=":", linewidth=0.8, label="0.995")
        ax.set_ylim(0.85, 1.005)
        ax.set_ylabel(f"{season}\nCOP_s / oracle")
        ax.set_xticks(range(len(plants)))
        ax.set_xticklabels(plants, rotation=30, ha="right", fontsize=8)
        ax.legend(loc="lower left", fontsize=8)
    axes[0, 0].set_title("campaign: energy-weighted COP_s against the plant's own optimum "
                         "(values below 0.85 in red)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
