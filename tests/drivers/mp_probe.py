"""Run a driver probe script on the host MicroPython (the 32-bit interpreter of the
virtual board), with the firmware tree as its flash."""

from host_tools.micropython import make_flash, run_micropython


def run_probe(tmp_path, code: str, heap: str = "1M") -> str:
    """The probe's output; fails the test if the interpreter did not exit cleanly."""
    probe = tmp_path / "probe.py"
    probe.write_text(code)
    flash = make_flash(tmp_path / "flash", extra={"probe.py": probe})
    result = run_micropython(["/probe.py"], flash, heap=heap, timeout_s=60)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    return out
