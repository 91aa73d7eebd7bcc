# Portable firmware tests: plain asserts, run by pytest under CPython and by
# run_fw_tests.py under the host MicroPython.
from core.model import SeasonModel
from fwtest import close


def _quadratic(a0, a1, a2, c=0.0):
    return SeasonModel([a0, a1, a2, 0.0], [0.0] * 4, c, 5.0, 30.0, 20.0, 10.0, 150.0)


def test_cop_matches_the_paper_form():
    m = _quadratic(-80.16973, 1.832, -0.010, 12.81)
    # 4.2 at the corrected summer optimum (91.6 %, 27.6 degC)
    assert close(m.cop(91.6, 27.6), 4.2, abs_=1e-3)


def test_optimum_of_a_quadratic_is_its_vertex():
    m = _quadratic(-80.0, 1.832, -0.010)
    assert close(m.optimum(27.6, 50.0, 130.0), 91.6, abs_=1e-9)


def test_optimum_clamps_to_the_range_end():
    m = _quadratic(-80.0, 1.832, -0.010)
    assert m.optimum(27.6, 100.0, 130.0) == 100.0
    assert m.optimum(27.6, 50.0, 80.0) == 80.0


def test_optimum_of_a_cubic_with_temperature_terms():
    # dCOP/dP = 0 at P = 60 + t for a cubic built around that point.
    m = SeasonModel([0.0, 0.0, 0.0, -1e-6], [0.0, 0.0, 0.0, 0.0], 0.0, 5.0, 30.0, 20.0, 10.0, 150.0)
    # -1e-6 P^3 alone is monotonic: best at the low end
    assert m.optimum(20.0, 40.0, 120.0) == 40.0
    # -(P - 80)^2 * 1e-3 expanded, with the vertex moving 1 %/degC: a1 = 0.002*(60+t)
    m2 = SeasonModel([-6.4, 0.12, -0.001, 0.0], [0.0, 0.002, 0.0, 0.0], 0.0, 5.0, 30.0, 20.0,
                     10.0, 150.0)
    assert close(m2.optimum(20.0, 10.0, 150.0), 80.0, abs_=1e-9)
    assert close(m2.optimum(30.0, 10.0, 150.0), 90.0, abs_=1e-9)


def test_optimum_beats_every_grid_point():
    m = SeasonModel([1.0, 0.05, -0.0009, 2e-6], [0.0, 0.001, -1e-5, 0.0], 3.0, 5.0, 30.0, 20.0,
                    10.0, 150.0)
    for t in (6.0, 12.0, 18.0, 25.0):
        best = m.optimum(t, 20.0, 140.0)
        top = m.cop(best, t)
        p = 20.0
        while p <= 140.0:
            assert m.cop(p, t) <= top + 1e-9
            p += 0.5


def test_effective_range_is_the_intersection():
    m = _quadratic(0.0, 1.0, -0.01)
    m.p_lo, m.p_hi = 40.0, 90.0
    assert m.effective_range(50.0, 130.0) == (50.0, 90.0)
    assert m.effective_range(10.0, 70.0) == (40.0, 70.0)
