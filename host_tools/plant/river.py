"""River temperature profiles: constant, daily and seasonal shapes, and a CSV time series."""

import csv
import math
from bisect import bisect_right
from pathlib import Path

from host_tools.errors import CopflowError


class Constant:
    def __init__(self, t_c: float):
        self.t_c = t_c

    def __call__(self, time_s: float) -> float:
        return self.t_c


class Daily:
    """mean + amplitude * cos(2 pi (t - t_peak) / 1 day): warmest at t_peak."""

    def __init__(self, mean_c: float, amplitude_c: float, peak_hour: float = 16.0):
        self.mean_c, self.amplitude_c, self.peak_s = mean_c, amplitude_c, peak_hour * 3600.0

    def __call__(self, time_s: float) -> float:
        return self.mean_c + self.amplitude_c * math.cos(2 * math.pi * (time_s - self.peak_s)
                                                         / 86400.0)


class Ramp:
    """Linear change from t_start to t_end over duration_s, then held."""

    def __init__(self, t_start_c: float, t_end_c: float, duration_s: float):
        self.a, self.b, self.d = t_start_c, t_end_c, max(duration_s, 1e-9)

    def __call__(self, time_s: float) -> float:
        x = min(max(time_s / self.d, 0.0), 1.0)
        return self.a + (self.b - self.a) * x


class Seasonal:
    """Annual cycle: mean + amplitude * cos(2 pi (day - warmest_day) / 365)."""

    def __init__(self, mean_c: float, amplitude_c: float, warmest_day: float = 210.0,
                 start_day: float = 0.0):
        self.mean_c, self.amplitude_c = mean_c, amplitude_c
        self.warmest_day, self.start_day = warmest_day, start_day

    def __call__(self, time_s: float) -> float:
        day = self.start_day + time_s / 86400.0
        return self.mean_c + self.amplitude_c * math.cos(2 * math.pi * (day - self.warmest_day)
                                                         / 365.0)


class Series:
    """A CSV time series with columns time_s,t_river_c, linearly interpolated."""

    def __init__(self, path: Path):
        self.times: list[float] = []
        self.temps: list[float] = []
        try:
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                missing = {"time_s", "t_river_c"} - set(reader.fieldnames or [])
                if missing:
                    raise CopflowError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
                for row_no, row in enumerate(reader, start=2):
                    try:
                        t, v = float(row["time_s"]), float(row["t_river_c"])
                    except (TypeError, ValueError):
                        raise CopflowError(f"{path}: row {row_no}: time_s and t_river_c must be "
                                           f"numbers, got {row['time_s']!r}, "
                                           f"{row['t_river_c']!r}") from None
                    if not (math.isfinite(t) and math.isfinite(v)):
                        raise CopflowError(f"{path}: row {row_no}: not finite")
                    if self.times and t <= self.times[-1]:
                        raise CopflowError(f"{path}: row {row_no}: time_s must increase")
                    self.times.append(t)
                    self.temps.append(v)
        except FileNotFoundError:
            raise CopflowError(f"{path}: no such file") from None
        if len(self.times) < 2:
            raise CopflowError(f"{path}: a river series needs at least 2 rows")

    def __call__(self, time_s: float) -> float:
        i = bisect_right(self.times, time_s)
        if i <= 0:
            return self.temps[0]
        if i >= len(self.times):
            return self.temps[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        w = (time_s - t0) / (t1 - t0)
        return self.temps[i - 1] * (1 - w) + self.temps[i] * w
