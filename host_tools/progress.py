"""A one-line progress bar for long runs, shown only on a terminal."""

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, stream=None, enabled: bool | None = None):
        self.total = max(1, total)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._done = 0

    def update(self, done: int) -> None:
        self._done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and done < self.total:
            return
        self._last_draw = now
        frac = min(1.0, done / self.total)
        elapsed = now - self._start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {frac * 100:5.1f} %  eta {eta:5.1f} s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
