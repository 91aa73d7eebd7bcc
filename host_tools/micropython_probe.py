"""Probe the host MicroPython's garbage collector for the defects in docs/micropython-host.md.

    python -m host_tools.micropython_probe

Exit status 0: both probes pass (a fixed interpreter); 1: a defect is present.
"""

import sys
import tempfile
from pathlib import Path

from host_tools.micropython import run_snippet

# Automatic collection (heap full) while a function with many locals runs.
AUTO_GC = """
class Point:
    def __init__(self, x):
        self.x = x
def work(n):
    a = b = c = d = e = f = 0
    p = Point(0.5)
    s = 0.0
    for i in range(n):
        s += i * p.x
    return s
def run():
    print("RESULT", work(100000))
run()
"""
AUTO_GC_EXPECTED = "2499975000.0"

# An explicit collection inside a frame with more than a few locals.
BIG_FRAME = """
import gc
gc.disable()
def big():
    v0 = v1 = v2 = v3 = v4 = v5 = v6 = v7 = 1
    x = [1.5] * 4
    gc.collect()
    junk = [[float(q)] for q in range(1500)]
    return x[0] + v0
def run():
    print("RESULT", big())
run()
"""
BIG_FRAME_EXPECTED = "2.5"


def probe(code: str, expected: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_snippet(code, Path(tmp), heap="110K", timeout_s=60)
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            got = line.split(" ", 1)[1]
            return got == expected, f"printed {got} (expected {expected})"
    tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"crashed: {tail}"


def main() -> int:
    ok_auto, auto = probe(AUTO_GC, AUTO_GC_EXPECTED)
    ok_big, big = probe(BIG_FRAME, BIG_FRAME_EXPECTED)
    print(f"automatic GC inside a frame with 9 locals: {'ok' if ok_auto else 'DEFECT'}, {auto}")
    print(f"gc.collect() inside a frame with 9 locals: {'ok' if ok_big else 'DEFECT'}, {big}")
    return 0 if ok_auto and ok_big else 1


if __name__ == "__main__":
    sys.exit(main())
