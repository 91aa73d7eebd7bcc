"""Plant speed: `python -m host_tools.plant.speed [--steps N] [--season S] [--plant FILE]`.

Times the dynamic plant alone (step + measure at 1 s, a river on a daily sine,
the output switching every 10 minutes) and `optimum()` uncached and cached.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from host_tools.plant import params, river
from host_tools.plant.plant import Plant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host_tools.plant.speed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=86400)
    parser.add_argument("--season", default="cooling", choices=("cooling", "heating"))
    parser.add_argument("--plant", type=Path)
    args = parser.parse_args(argv)
    pp = params.load(args.plant)
    plant = Plant(pp, args.season)
    t_mean = plant.bench_t_river_c
    profile = river.Daily(t_mean, 1.0, peak_hour=16.0)
    plant.reset(60.0, profile(0.0))
    start = time.perf_counter()
    for k in range(args.steps):
        plant.step(1.0, 60.0 + 20.0 * ((k // 600) % 2), profile(float(k)))
        plant.measure()
    elapsed = time.perf_counter() - start
    print(f"step+measure: {args.steps} steps in {elapsed:.2f} s, "
          f"{args.steps / elapsed:,.0f} steps/s, {elapsed / args.steps * 1e6:.1f} us/step")

    temps = np.linspace(t_mean - 5.0, t_mean + 5.0, 200)
    fresh = Plant(pp, args.season)
    start = time.perf_counter()
    for t in temps:
        fresh.optimum(float(t))
    uncached = (time.perf_counter() - start) / len(temps)
    start = time.perf_counter()
    for k in range(20000):
        fresh.optimum(float(temps[k % len(temps)]))
    cached = (time.perf_counter() - start) / 20000
    print(f"optimum(): {uncached * 1e3:.2f} ms uncached, {cached * 1e6:.2f} us cached")

    oracle = Plant(pp, args.season)
    start = time.perf_counter()
    for k in range(args.steps):
        oracle.optimum(profile(float(k)))
    elapsed = time.perf_counter() - start
    print(f"optimum() every step over a +-1 K daily sine: {elapsed:.2f} s for {args.steps} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
