"""Back to a running copflow, from wherever the board is: the running app (`reboot`),
or the MicroPython REPL, friendly or raw, after mpremote or a Ctrl-C (leave raw
mode, soft reset: main.py runs). Waits for `!boot` and `hello` (copflow reset,
config --hw, the console's reset)."""

import time

from host_tools.errors import CopflowError
from host_tools.link import Link

BOOT_WAIT_S = 30.0


def reset(port: str, timeout_s: float) -> str:
    """Reset the board on `port` into copflow; returns its `!boot` line."""
    with Link(port, timeout_s=timeout_s) as link:
        try:
            answered = link.request("hello", timeout_s=min(timeout_s, 2.0)).ok
        except CopflowError:
            answered = False  # no copflow console there: a REPL, most likely
        if answered:
            link.command("reboot")
        else:
            # Ctrl-C twice (stop a running script), Ctrl-B (raw REPL -> friendly),
            # then Ctrl-D: a soft reset, after which the board runs main.py
            link.write_raw(b"\r\x03\x03")
            time.sleep(0.2)
            link.write_raw(b"\x02")
            time.sleep(0.3)
            link.write_raw(b"\x04")
        deadline = time.monotonic() + BOOT_WAIT_S
        while True:
            text = link.read_line(deadline)
            if text is None:
                raise CopflowError(f"{port}: no !boot line within {BOOT_WAIT_S:g} s after the "
                                   f"reset: is MicroPython with copflow on it? "
                                   f"(copflow deploy --port {port})")
            if text.startswith("!maint"):
                raise CopflowError(f"{port}: the board booted into maintenance (a /maint "
                                   f"flag): finish or repeat the deploy (docs/deploy.md)")
            if text.startswith("!boot"):
                boot = text
                break
        link.command("hello")
    return boot
