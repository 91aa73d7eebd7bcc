"""River temperature profiles and the CSV series' errors."""

import math

import pytest

from host_tools.errors import CopflowError
from host_tools.plant import river


def test_constant_daily_seasonal_ramp():
    assert river.Constant(12.0)(1e6) == 12.0
    daily = river.Daily(20.0, 2.0, peak_hour=15.0)
    assert daily(15 * 3600.0) == pytest.approx(22.0)
    assert daily(3 * 3600.0) == pytest.approx(18.0)
    assert river.Daily(20.0, 2.0, phase_rad=math.pi / 2)(0.0) == pytest.approx(22.0)
    seasonal = river.Seasonal(18.0, 8.0, warmest_day=215.0)
    assert seasonal(215 * 86400.0) == pytest.approx(26.0)
    assert river.Ramp(10.0, 20.0, 100.0)(50.0) == pytest.approx(15.0)


@pytest.mark.parametrize(("text", "message"), [
    ("time_s,t_river_c\n0,20\n60,x\n", "row 3, column t_river_c: 'x' is not a number"),
    ("time_s,t_river_c\n0,20\nabc,21\n", "row 3, column time_s: 'abc' is not a number"),
    ("time_s,t_river_c\n0,20\n60\n", "row 3, column t_river_c: None is not a number"),
    ("time_s,t_river_c\n0,20\n0,21\n", "row 3, column time_s: 0 does not increase"),
    ("time_s,t_river_c\n0,20\n60,inf\n", "row 3, column t_river_c: 'inf' is not finite"),
    ("time_s,t_river_c\n0,20\n60,80\n", "row 3, column t_river_c: 80 is outside"),
    ("time,t\n0,1\n", "row 1: missing column(s) time_s, t_river_c"),
    ("time_s,t_river_c\n0,20\n", "at least 2 data rows"),
])
def test_bad_csv_names_row_and_column(tmp_path, text, message):
    path = tmp_path / "river.csv"
    path.write_text(text)
    with pytest.raises(CopflowError) as info:
        river.Series(path)
    assert message in str(info.value)


def test_series_interpolates_and_holds_its_ends(tmp_path):
    path = tmp_path / "river.csv"
    path.write_text("time_s, t_river_c\n0,20\n3600,22\n7200,21\n")
    s = river.Series(path)
    assert s(1800) == pytest.approx(21.0)
    assert s(5400) == pytest.approx(21.5)
    assert s(-5) == 20.0 and s(1e9) == 21.0


def test_missing_csv(tmp_path):
    with pytest.raises(CopflowError, match="no such file"):
        river.Series(tmp_path / "none.csv")
