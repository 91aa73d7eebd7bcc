"""A board's console and MicroPython REPL over its serial port, for tests that work
at the REPL (after Ctrl-C or a maintenance boot)."""

import time

import serial


class SerialRepl:
    def __init__(self, port: str):
        self.s = serial.Serial(port, 115200, timeout=0.05)
        self.buf = b""

    def read_until(self, token: bytes, limit: float = 30.0) -> str:
        """Everything up to and including `token`; the rest stays buffered."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            self.buf += self.s.read(4096)
            i = self.buf.find(token)
            if i >= 0:
                out, self.buf = self.buf[:i + len(token)], self.buf[i + len(token):]
                return out.decode(errors="replace")
        raise AssertionError(f"no {token!r} within {limit} s; got {self.buf[-400:]!r}")

    def repl(self) -> None:
        """Ctrl-C twice (one is line noise to copflow's console): the firmware stops,
        the REPL comes up."""
        self.s.write(b"\x03\x03")
        self.read_until(b">>> ")

    def eval(self, expr: str) -> str:
        """The line the REPL prints for `expr`."""
        while self.s.read(4096):  # whatever the REPL printed before (extra prompts)
            pass
        self.buf = b""
        self.s.write(expr.encode() + b"\r")
        return self.read_until(b">>> ").split("\r\n")[-2]

    def close(self) -> None:
        self.s.close()
