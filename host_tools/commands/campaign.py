"""`copflow campaign`: every plant x season x controller as a SIL run, on Dask."""

import argparse
import json
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.outputs import check_output_dir
from host_tools.progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plants", nargs="*", type=Path, metavar="PLANT",
                        help="plant files (TOML); default: the shipped population "
                             "(host_tools/data/plants/)")
    parser.add_argument("--seasons", default="summer,winter",
                        help="comma-separated (default summer,winter)")
    parser.add_argument("--optimiser", default="online",
                        help="comma-separated controllers: online (the firmware's on-line "
                             "optimiser), model (the model's optimum), excitation (online "
                             "pinned to the true optimum: the cost of its dither), constant "
                             "(100 %% design flow); default online")
    parser.add_argument("--hours", type=float, default=24.0, help="per run (default 24)")
    parser.add_argument("--dt", type=float, default=1.0, help="step, s (default 1)")
    parser.add_argument("--workers", type=int, default=2,
                        help="local Dask worker processes (default 2)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="join an existing Dask cluster (tcp://host:8786) instead")
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    parser.add_argument("--out", type=Path, help="write campaign.csv and campaign.png here")


def run(args: argparse.Namespace) -> int:
    from host_tools import campaign

    if args.out:
        check_output_dir(args.out)
    if not 0.05 <= args.dt <= 600:
        raise CopflowError("--dt must be in 0.05..600 s")
    plants = args.plants or campaign.shipped_plants()
    job_list = campaign.jobs(plants, [s for s in args.seasons.split(",") if s],
                             [o for o in args.optimiser.split(",") if o], args.hours, args.dt)
    with Progress(len(job_list), f"campaign ({len(job_list)} runs)") as bar:
        rows = campaign.run(job_list, args.workers, args.scheduler,
                            progress=lambda done, total: bar.update(done))
    if args.out:
        from host_tools import plots

        campaign.write_csv(rows, args.out / "campaign.csv")
        plots.campaign_ratios(rows, args.out / "campaign.png")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(campaign.table(rows))
        if args.out:
            print(f"wrote {args.out / 'campaign.csv'} and {args.out / 'campaign.png'}")
    return 0
