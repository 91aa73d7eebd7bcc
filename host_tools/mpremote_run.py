"""mpremote, the MicroPython project's own tool, run on a port as a subprocess: any
failure is one `copflow:` line (copflow deploy, config --hw)."""

import subprocess
import sys

from host_tools.errors import CopflowError


def mpremote(port: str, *args: str, timeout_s: float = 600) -> str:
    """Run mpremote on the port; any failure is one line (no mpremote traceback)."""
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    what = args[0] if args else "connect"
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise CopflowError(f"{port}: the board did not finish mpremote {what} within "
                           f"{timeout_s:g} s") from None
    if proc.returncode != 0:
        raise CopflowError(f"{port}: mpremote {what} failed: {_last_line(proc)}")
    return proc.stdout


def _last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    if not lines:
        return f"exit status {proc.returncode}"
    last = lines[-1]
    if last.startswith("mpremote: "):
        last = last[len("mpremote: "):]
    return last
