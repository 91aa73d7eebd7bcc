"""The virtual board's hardware watchdog, kept on the host side of the guest.

A twin `machine.WDT` in the guest arms and feeds it through the host call
"wdt" (payload: the timeout in ms). If it is not fed in time, the interpreter
process ends at once with WDT_RESET_EXIT, wherever the guest is, even waiting
in the REPL: a real watchdog does not care what the CPU is doing. The virtual
board (host_tools/vboard.py) then boots the guest with reset cause WDT_RESET.

It cannot be stopped. A soft reset (the guest exits with SOFT_RESET statuses)
keeps it running: its timeout and the time left are written to `state_file`,
and the next interpreter starts with them armed (docs/machine-twins.md).
"""

import os
import sys
import threading
import time

WDT_RESET_EXIT = 103
HARD_RESET_EXIT = 102
SOFT_RESET_EXITS = (100, 101)


class Watchdog:
    def __init__(self, state_file: str | None = None):
        self.state_file = state_file
        self.timeout_ms = 0
        self.deadline: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, timeout_ms: int, left_ms: int | None = None) -> None:
        with self._lock:
            self.timeout_ms = timeout_ms
            left = timeout_ms if left_ms is None else left_ms
            self.deadline = time.monotonic() + left / 1000
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()

    def host_call(self, payload: bytes) -> bytes:
        try:
            timeout_ms = int(payload.decode())
        except ValueError:
            return b'{"ok":false,"error":"wdt: timeout in ms expected"}'
        self.arm(timeout_ms)
        return b'{"ok":true}'

    def _watch(self) -> None:
        while True:
            time.sleep(0.005)
            with self._lock:
                deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline:
                print("virtual board: watchdog reset", file=sys.stderr, flush=True)
                self._forget()
                os._exit(WDT_RESET_EXIT)

    def _forget(self) -> None:
        if self.state_file and os.path.exists(self.state_file):
            os.remove(self.state_file)

    def exited(self, status: int) -> None:
        """The guest ended: a soft reset keeps the watchdog, anything else stops it."""
        if not self.state_file:
            return
        with self._lock:
            deadline = self.deadline
        if status in SOFT_RESET_EXITS and deadline is not None:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            with open(self.state_file, "w") as f:
                f.write(f"{self.timeout_ms}:{left}")
        else:
            self._forget()


def read_state(state_file: str) -> tuple[int, int] | None:
    """(timeout_ms, left_ms) a soft reset left behind, or None."""
    try:
        with open(state_file) as f:
            timeout, left = f.read().split(":")
        return int(timeout), int(left)
    except (OSError, ValueError):
        return None
