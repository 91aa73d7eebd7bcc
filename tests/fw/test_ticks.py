import time

from core.ticks import ticks_add, ticks_diff

_MAX = (1 << 30) - 1


def test_add_wraps_at_the_tick_period():
    assert ticks_add(_MAX, 1) == 0
    assert ticks_add(0, -1) == _MAX
    assert ticks_add(5, 1 << 30) == 5


def test_diff_is_signed_across_the_wrap():
    assert ticks_diff(2, _MAX - 2) == 5
    assert ticks_diff(_MAX - 2, 2) == -5
    assert ticks_diff(1000, 0) == 1000
    assert ticks_diff(0, 1 << 29) == -(1 << 29)


def test_matches_the_boards_own_functions():
    if not hasattr(time, "ticks_diff"):
        return  # CPython: covered by tests/test_diff_core.py against MicroPython
    for a, b in ((0, 0), (_MAX, 0), (0, _MAX), (12345, 999999), (1 << 29, 0), (0, 1 << 29)):
        assert ticks_diff(a, b) == time.ticks_diff(a, b)
        delta = b - (1 << 29) if b >= (1 << 29) else b  # the board refuses |delta| >= 2**29
        assert ticks_add(a, delta) == time.ticks_add(a, delta)
