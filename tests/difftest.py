"""Run the same inputs through firmware code on CPython and on the host MicroPython.

Floats cross the boundary as IEEE-754 bit patterns (hex), never as text: the
two interpreters parse and format floats differently in the last digits, and a
differential test must compare computations, not formatting. Comparisons of
results are then made within a tolerance.
"""

import json
import math
import struct
import tempfile
from pathlib import Path

from host_tools.micropython import make_flash, run_micropython

MARKER = "DIFF-RESULT "
_FW_DIR = Path(__file__).parent / "fw"


def encode(value):
    """JSON-safe, exact: floats become {"f": hex}; other values pass through."""
    if isinstance(value, float):
        return {"f": struct.pack("<d", value).hex()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value):
    if isinstance(value, dict) and set(value) == {"f"}:
        return struct.unpack("<d", bytes.fromhex(value["f"]))[0]
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


# The same codec, for the guest (MicroPython has no bytes.hex/fromhex on every port).
GUEST_CODEC = '''
import struct, binascii
def decode(v):
    if isinstance(v, dict):
        if len(v) == 1 and "f" in v:
            return struct.unpack("<d", binascii.unhexlify(v["f"]))[0]
        return {k: decode(v[k]) for k in v}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v
def encode(v):
    if isinstance(v, float):
        return {"f": binascii.hexlify(struct.pack("<d", v)).decode()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(v[k]) for k in v}
    return v
'''


def run_on_micropython(driver: str, cases: list, heap: str = "32M") -> list:
    """Run `driver` (guest code defining `compute(case) -> result`) on every case.

    The driver sees decoded cases and returns plain values; results come back
    decoded. Garbage collection stays off in the guest (docs/micropython-host.md).
    """
    with tempfile.TemporaryDirectory() as tmp:
        flash = make_flash(Path(tmp), extra={"fwtest.py": _FW_DIR / "fwtest.py"})
        (flash / "cases.json").write_text(json.dumps(encode(cases)))
        (flash / "diff_driver.py").write_text(
            "import gc\ngc.disable()\nimport json\n" + GUEST_CODEC + driver + '''
def main():
    with open("/cases.json") as f:
        cases = decode(json.load(f))
    out = [encode(compute(c)) for c in cases]
    print("''' + MARKER + '''" + json.dumps(out))
main()
''')
        result = run_micropython(["/diff_driver.py"], flash, heap=heap, timeout_s=120)
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            return decode(json.loads(line[len(MARKER):]))
    raise AssertionError(f"no result from MicroPython (exit {result.returncode}):\n"
                         f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def run_on_cpython(driver: str, cases: list) -> list:
    namespace: dict = {}
    exec(driver, namespace)  # the same driver source, run by CPython
    return [namespace["compute"](decode(encode(c))) for c in cases]


def assert_close(cpython, micropython, rel=1e-9, abs_=1e-9, path="result"):
    if isinstance(cpython, float) or isinstance(micropython, float):
        a, b = float(cpython), float(micropython)
        if math.isnan(a) and math.isnan(b):
            return
        assert math.isclose(a, b, rel_tol=rel, abs_tol=abs_), f"{path}: {a!r} != {b!r}"
    elif isinstance(cpython, list):
        assert isinstance(micropython, list) and len(cpython) == len(micropython), path
        for i, (x, y) in enumerate(zip(cpython, micropython, strict=True)):
            assert_close(x, y, rel, abs_, f"{path}[{i}]")
    elif isinstance(cpython, dict):
        assert set(cpython) == set(micropython), path
        for k in cpython:
            assert_close(cpython[k], micropython[k], rel, abs_, f"{path}.{k}")
    else:
        assert cpython == micropython, f"{path}: {cpython!r} != {micropython!r}"
