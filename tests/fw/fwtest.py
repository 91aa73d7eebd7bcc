# Helpers for portable firmware tests: these run under pytest (CPython) and
# under run_fw_tests.py (MicroPython), so no pytest features are used.


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception of exc_type it raised; fail if it did not."""
    try:
        fn(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError("%s was not raised" % exc_type.__name__)


def close(a, b, rel=1e-9, abs_=1e-9):
    """Floats equal within a tolerance (MicroPython and CPython round differently)."""
    diff = a - b
    if diff < 0:
        diff = -diff
    scale = a if a > 0 else -a
    other = b if b > 0 else -b
    if other > scale:
        scale = other
    return diff <= abs_ or diff <= rel * scale


def empty_folder(path):
    """The folder `path` (relative: the flash root on MicroPython), made or emptied."""
    import os

    try:
        os.mkdir(path)
    except OSError:
        pass
    for name in os.listdir(path):
        os.remove(path + "/" + name)


def remove_folder(path):
    """The folder `path` and the files in it, gone."""
    import os

    empty_folder(path)
    os.rmdir(path)
