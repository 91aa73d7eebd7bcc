# Portable test runner for MicroPython (also works on CPython):
#     micropython run_fw_tests.py test_model test_pi ...
# Runs every test_* function of each module in name order, prints PASS/FAIL
# lines and a closing "N passed, N failed" line; exits 1 on any failure.
# Garbage collection stays off for the whole run (docs/micropython-host.md):
# the host runs this with a heap large enough for every test.
import gc

gc.disable()
import sys  # noqa: E402


def _print_exception(exc):
    if hasattr(sys, "print_exception"):
        sys.print_exception(exc)  # MicroPython
    else:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def run_module(name, counts):
    try:
        module = __import__(name)
    except Exception as exc:
        print("FAIL %s: import error %s: %s" % (name, type(exc).__name__, exc))
        _print_exception(exc)
        counts[1] += 1
        return
    for attr in sorted(dir(module)):
        if not attr.startswith("test_"):
            continue
        fn = getattr(module, attr)
        if not callable(fn):
            continue
        try:
            fn()
        except Exception as exc:
            counts[1] += 1
            print("FAIL %s.%s: %s: %s" % (name, attr, type(exc).__name__, exc))
            _print_exception(exc)
        else:
            counts[0] += 1
            print("PASS %s.%s" % (name, attr))


def main(names):
    counts = [0, 0]
    for name in names:
        run_module(name, counts)
    print("%d passed, %d failed" % (counts[0], counts[1]))
    return 1 if counts[1] or not counts[0] else 0


sys.exit(main(sys.argv[1:]))
