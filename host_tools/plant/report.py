"""The paper-vs-plant table of docs/paper-reproduction.md: `python -m host_tools.plant.report`."""

import sys
from pathlib import Path

from host_tools.plant import params
from host_tools.plant.plant import Plant

PAPER = {  # seed paper, section 3: measured optimum, COP there, COP range over the test range
    "cooling": (91.6, 3.45, (80, 100), "2.5-3.45"),
    "heating": (54.5, 3.01, (40, 62), "1.75-3.01"),
}


def rows(plant_file: Path | None = None):
    base = params.load(plant_file)
    vfd = params.to_namespace(params.merge({"actuator": {"kind": "vfd"}}))
    for label, pp in (("valve (bench)", base), ("VFD", vfd)):
        for season in ("cooling", "heating"):
            plant = Plant(pp, season)
            t = plant.bench_t_river_c
            best = plant.optimum(t)
            p_paper, cop_paper, (lo, hi), range_paper = PAPER[season]
            cops = [plant.steady_state_at_flow_percent(float(p), t) for p in range(lo, hi + 1)]
            running = [op.cop_s for op in cops if op.trip is None]
            tripped = len(cops) - len(running)
            yield (label, season, t, p_paper, best.flow_percent, cop_paper, best.cop_s,
                   f"{lo}-{hi} %", range_paper,
                   f"{min(running):.2f}-{max(running):.2f}" + (f" ({tripped} tripped)"
                                                               if tripped else ""),
                   best.w_pump_kw / (best.w_pump_kw + best.w_hp_kw))


def main() -> int:
    plant_file = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print("| actuator | season | river degC | optimum %: paper | plant | COP_s at optimum: "
          "paper | plant | range | COP_s over range: paper | plant | pump share at optimum |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows(plant_file):
        print("| %s | %s | %.1f | %.1f | %.1f | %.2f | %.3f | %s | %s | %s | %.0f %% |"
              % (*r[:10], 100 * r[10]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
