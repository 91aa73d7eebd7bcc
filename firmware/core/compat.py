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


def unload(name: str):
    """Forget a module that was imported for one job (its code and constants are
    then garbage; only its interned names stay). On MicroPython only: CPython has
    heap to spare, and tests keep their own references to such modules."""
    import sys

    if sys.implementation.name != "micropython" or name not in sys.modules:
        return
    del sys.modules[name]
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        try:
            delattr(sys.modules[parent], child)
        except AttributeError:
            pass
