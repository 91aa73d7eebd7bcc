"""River temperature profiles. Each is a callable: profile(time_s) -> t_river_c.

Constant, a daily sine, an annual (seasonal) cosine, a ramp, and a measured
CSV series (columns time_s,t_river_c; linear interpolation, held flat beyond
its ends). A bad CSV raises CopflowError naming the row and the column.
"""

import csv
import math
from bisect import bisect_right
from pathlib import Path

from host_tools.errors import CopflowError

DAY_S = 86400.0
YEAR_DAYS = 365.0


class Constant:
    def __init__(self, t_c: float):
        self.t_c = t_c

    def __call__(self, time_s: float) -> float:
        return self.t_c


class Daily:
    """mean + amplitude * sin(2 pi t / 1 day + phase): a river warmed by day, cooled by night.

    `peak_hour`, if given, sets the phase so that the maximum falls at that hour.
    """

    def __init__(self, mean_c: float, amplitude_c: float, phase_rad: float = 0.0,
                 peak_hour: float | None = None):
        self.mean_c, self.amplitude_c = mean_c, amplitude_c
        if peak_hour is not None:
            phase_rad = math.pi / 2.0 - 2.0 * math.pi * peak_hour / 24.0
        self.phase_rad = phase_rad

    def __call__(self, time_s: float) -> float:
        return self.mean_c + self.amplitude_c * math.sin(2.0 * math.pi * time_s / DAY_S
                                                         + self.phase_rad)


class Seasonal:
    """Annual cycle mean + amplitude * cos(2 pi (day - warmest_day) / 365), plus a daily swing.

    Large rivers lag the air by about a month: the Yangtze at Chongqing is
    warmest around early August (day ~215) and coldest in February.
    """

    def __init__(self, mean_c: float, amplitude_c: float, warmest_day: float = 215.0,
                 start_day: float = 0.0, daily_amplitude_c: float = 0.0,
                 daily_peak_hour: float = 16.0):
        self.mean_c, self.amplitude_c = mean_c, amplitude_c
        self.warmest_day, self.start_day = warmest_day, start_day
        self.daily = Daily(0.0, daily_amplitude_c, peak_hour=daily_peak_hour)

    def __call__(self, time_s: float) -> float:
        day = self.start_day + time_s / DAY_S
        return (self.mean_c + self.amplitude_c * math.cos(2.0 * math.pi * (day - self.warmest_day)
                                                          / YEAR_DAYS) + self.daily(time_s))


class Ramp:
    """Linear change from t_start to t_end over duration_s, then held."""

    def __init__(self, t_start_c: float, t_end_c: float, duration_s: float):
        self.a, self.b, self.d = t_start_c, t_end_c, max(duration_s, 1e-9)

    def __call__(self, time_s: float) -> float:
        x = min(max(time_s / self.d, 0.0), 1.0)
        return self.a + (self.b - self.a) * x


COLUMNS = ("time_s", "t_river_c")


class Series:
    """A measured series from CSV (time_s,t_river_c), linearly interpolated."""

    def __init__(self, path: Path | str):
        self.path = path = Path(path)
        self.times: list[float] = []
        self.temps: list[float] = []
        try:
            with open(path, newline="") as f:
                self._read(path, csv.DictReader(f))
        except FileNotFoundError:
            raise CopflowError(f"{path}: no such file") from None
        except UnicodeDecodeError:
            raise CopflowError(f"{path}: not a text CSV file") from None
        if len(self.times) < 2:
            raise CopflowError(f"{path}: a river series needs at least 2 data rows")

    def _read(self, path: Path, reader: csv.DictReader) -> None:
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise CopflowError(f"{path}: row 1: missing column(s) {', '.join(missing)} "
                               f"(need {','.join(COLUMNS)})")
        reader.fieldnames = header
        for row_no, row in enumerate(reader, start=2):
            values = []
            for col in COLUMNS:
                text = row.get(col)
                try:
                    v = float(text)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise CopflowError(f"{path}: row {row_no}, column {col}: "
                                       f"{text!r} is not a number") from None
                if not math.isfinite(v):
                    raise CopflowError(f"{path}: row {row_no}, column {col}: {text!r} "
                                       f"is not finite")
                values.append(v)
            t, temp = values
            if not -5.0 <= temp <= 50.0:
                raise CopflowError(f"{path}: row {row_no}, column t_river_c: {temp:g} is outside "
                                   f"-5..50 degC")
            if self.times and t <= self.times[-1]:
                raise CopflowError(f"{path}: row {row_no}, column time_s: {t:g} does not "
                                   f"increase (previous {self.times[-1]:g})")
            self.times.append(t)
            self.temps.append(temp)

    def __call__(self, time_s: float) -> float:
        i = bisect_right(self.times, time_s)
        if i <= 0:
            return self.temps[0]
        if i >= len(self.times):
            return self.temps[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        w = (time_s - t0) / (t1 - t0)
        return self.temps[i - 1] * (1.0 - w) + self.temps[i] * w
