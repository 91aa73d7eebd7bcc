"""Campaigns: every plant x season x controller as a SIL run (host_tools.sim), on
dask.distributed -- a LocalCluster on this machine by default, or an existing
cluster (`scheduler`) for users who outgrow one machine. Each run is independent
and deterministic (the plant's noise has its own seed), so the rows do not
depend on how the runs were spread over workers.

A row: plant, season, optimiser, ratio_to_oracle, ratio_last_hour,
baseline_ratio, hours_to_within_2pct, energy_saved_kwh (against constant design
flow for the same heat), cop_s, oracle_cop_s, flow_percent_final,
optimal_percent_true, alarms_seen.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import CopflowError

# The controllers a campaign can compare (host_tools.sim): "online" and "model" are
# the firmware with its `optimiser` parameter set so (the on-line optimiser, the
# model's optimum on its coefficients), "excitation" the on-line optimiser pinned to
# the plant's true optimum (what its dither costs), "constant" 100 % design flow.
OPTIMISERS = ("online", "model", "excitation", "constant")
COLUMNS = ("plant", "season", "optimiser", "ratio_to_oracle", "ratio_last_hour",
           "baseline_ratio", "hours_to_within_2pct", "energy_saved_kwh", "cop_s",
           "oracle_cop_s", "flow_percent_final", "optimal_percent_true", "alarms_seen")
PLANTS_DIR = Path(__file__).resolve().parent / "data" / "plants"


@dataclass(frozen=True)
class Job:
    plant: str  # a plant file's path (TOML)
    season: str
    optimiser: str
    hours: float
    dt_s: float


def shipped_plants() -> list[Path]:
    return sorted(PLANTS_DIR.glob("*.toml"))


def jobs(plants: list[Path], seasons: list[str], optimisers: list[str], hours: float,
         dt_s: float = 1.0) -> list[Job]:
    """Every combination, after checking each input (a bad one fails before any run)."""
    from host_tools.plant import params
    from host_tools.seasons import SEASON_ALIASES

    if not plants:
        raise CopflowError("no plant files given")
    for p in plants:
        params.load(p)  # a missing or invalid plant file is named now
    for s in seasons:
        if s not in SEASON_ALIASES:
            raise CopflowError(f"unknown season {s!r} (summer, winter, cooling, heating)")
    for o in optimisers:
        if o not in OPTIMISERS:
            raise CopflowError(f"unknown optimiser {o!r} (have: {', '.join(OPTIMISERS)})")
    if not 0 < hours <= 24 * 366:
        raise CopflowError("--hours must be in (0, 8784]")
    return [Job(str(p), SEASON_ALIASES[s], o, hours, dt_s)
            for p in plants for s in seasons for o in optimisers]


def run_job(job: Job) -> dict:
    """One SIL run (on a worker): its row."""
    from host_tools import sim
    from host_tools.plant import params
    from host_tools.plant.plant import Plant

    pp = params.load(Path(job.plant))
    result = sim.run_season(lambda s: Plant(pp, s), job.season, job.hours, job.dt_s,
                            job.optimiser)
    return {
        "plant": Path(job.plant).stem, "season": job.season, "optimiser": job.optimiser,
        "ratio_to_oracle": result.ratio_to_oracle, "ratio_last_hour": result.ratio_last_hour,
        "baseline_ratio": result.baseline_ratio,
        "hours_to_within_2pct": result.hours_to_within_2pct,
        "energy_saved_kwh": sim.kwh_saved(result), "cop_s": result.cop_s,
        "oracle_cop_s": result.oracle_cop_s, "flow_percent_final": result.flow_percent_final,
        "optimal_percent_true": result.optimal_percent_true,
        "alarms_seen": result.alarms_seen,
    }


def run(job_list: list[Job], workers: int = 2, scheduler: str | None = None,
        progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Rows in job order, the runs spread over a dask.distributed cluster."""
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise CopflowError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        cluster = None
    else:
        if workers < 1:
            raise CopflowError("--workers must be at least 1")
        # One thread per worker process: the runs are pure Python (the GIL).
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(run_job, job_list, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        rows: list[dict | None] = [None] * len(job_list)
        done = 0
        for future in as_completed(futures):
            rows[index[future.key]] = future.result()
            done += 1
            if progress:
                progress(done, len(job_list))
        return [r for r in rows if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["" if r[c] is None else " ".join(r[c]) if isinstance(r[c], list)
                        else f"{r[c]:.6g}" if isinstance(r[c], float) else r[c]
                        for c in COLUMNS])


def table(rows: list[dict]) -> str:
    head = (f"{'plant':<24} {'season':<8} {'optimiser':<9} {'ratio':>7} {'last h':>7} "
            f"{'const':>7} {'h to 2%':>8} {'kWh saved':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        h = r["hours_to_within_2pct"]
        lines.append(f"{r['plant']:<24} {r['season']:<8} {r['optimiser']:<9} "
                     f"{r['ratio_to_oracle']:7.4f} {r['ratio_last_hour']:7.4f} "
                     f"{r['baseline_ratio']:7.4f} {'never' if h is None else f'{h:.2f}':>8} "
                     f"{r['energy_saved_kwh']:9.3f}")
    return "\n".join(lines)
