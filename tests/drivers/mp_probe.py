"""Run a driver probe script on the host MicroPython (the 32-bit interpreter of the
virtual board), with the firmware tree as its flash and, if asked, the machine
twins beside it (`import twins`: host_tools/twins, as the virtual board has them)."""

from host_tools.micropython import make_flash, run_micropython
from host_tools.paths import PROJECT_ROOT

TWINS_DIR = PROJECT_ROOT / "host_tools" / "twins"


def run_probe(tmp_path, code: str, heap: str = "1M", twins: bool = False) -> str:
    """The probe's output; fails the test if the interpreter did not exit cleanly."""
    probe = tmp_path / "probe.py"
    probe.write_text(code)
    extra = {"probe.py": probe}
    if twins:
        for src in TWINS_DIR.glob("*.py"):
            extra["twins/" + src.name] = src
    flash = make_flash(tmp_path / "flash", extra=extra)
    result = run_micropython(["/probe.py"], flash, heap=heap, timeout_s=60)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    return out
