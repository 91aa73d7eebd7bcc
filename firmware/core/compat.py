# The few names that differ between MicroPython and CPython, in one place.
try:
    from micropython import const  # type: ignore  # noqa: F401
except ImportError:  # CPython

    def const(x):  # type: ignore
        return x


NAN = float("nan")
INF = float("inf")


def is_finite(x) -> bool:
    # x - x is 0.0 for finite floats and nan for nan/inf: no math import and
    # no isinstance chain, which matters in the hot path.
    return x - x == 0.0


def as_number(x):
    """A finite float from a measurement, or None for None/nan/inf/non-numbers."""
    if x is None or x is True or x is False:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError, OverflowError):
        return None
    if x - x == 0.0:
        return x
    return None
