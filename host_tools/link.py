"""The host side of console protocol v1 (docs/protocol.md), over any pyserial URL.

A real port (/dev/ttyACM0), a virtual board's pty, socket://host:port or
loop:// all go through serial.serial_for_url. Requests are tagged so responses
pair up; unsolicited lines (`!...`) go to a telemetry callback; a garbled line
is counted and skipped, never mistaken for a response.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

from host_tools.errors import CopflowError

RESPONSE = re.compile(r"^#(?P<tag>[A-Za-z0-9]{1,8}) (?P<kind>ok|err)(?: (?P<rest>.*))?$")
# An answer the board could not tag: a line longer than its buffer is dropped whole,
# tag included, and answered `err E_TOOLONG line longer than N bytes`
# (firmware/console.py, Console.feed).
TOOLONG = re.compile(r"^err (?P<code>E_TOOLONG) (?P<rest>.*?(?P<limit>\d+) bytes.*)$")
# The board's console buffer (firmware/console.py MAX_LINE): a request line, its tag
# and the words after it, without the newline, must fit.
MAX_LINE = 200
# MicroPython's REPL waiting for input, where copflow's console was expected: the
# friendly REPL's prompt (sys.ps1, v1.27 shared/runtime/pyexec.c:520; the line before
# it is the echo of ours) or the raw REPL's banner (pyexec.c:557; it echoes nothing).
REPL_PROMPT = b">>> "
RAW_REPL_BANNER = "raw REPL; CTRL-B to exit"


class ReplError(CopflowError):
    """MicroPython's REPL is on the port, not copflow's console."""


class LinkError(CopflowError):
    """The board answered `err CODE message`."""

    def __init__(self, code: str, message: str, port: str):
        super().__init__(f"{port}: {code} {message}")
        self.code = code
        self.message = message


@dataclass
class Response:
    ok: bool
    body: str
    code: str = ""
    extra: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, str]:
        """`key=value` words of an ok body."""
        return key_values(self.body)


def key_values(text: str) -> dict[str, str]:
    """The `key=value` words of a response body or an unsolicited line."""
    out = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value
    return out


class Link:
    def __init__(self, url: str, timeout_s: float = 3.0,
                 on_unsolicited: Callable[[str], None] | None = None, baudrate: int = 115200):
        self.url = url
        self.timeout_s = timeout_s
        self.on_unsolicited = on_unsolicited
        self.garbled = 0
        self._count = 0  # requests sent: tags are c1, c2, ...
        self._pending = b""
        try:
            self.serial = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05,
                                                write_timeout=timeout_s)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise CopflowError(f"cannot open {url}: {_reason(exc)}") from None

    def close(self) -> None:
        self.serial.close()

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- lines ---------------------------------------------------------
    def write_raw(self, data: bytes) -> None:
        try:
            self.serial.write(data)
            self.serial.flush()
        except (serial.SerialException, OSError) as exc:
            raise CopflowError(f"{self.url}: write failed: {_reason(exc)}") from None

    def _repl_error(self, what: str) -> ReplError:
        return ReplError(f"{self.url}: the MicroPython {what}, not copflow "
                         f"(`copflow reset --port {self.url}` starts it)")

    def read_line(self, deadline: float, repl_fails: bool = False) -> str | None:
        """The next complete line before the deadline, or None. With repl_fails, the
        REPL's prompt waiting at the end of what came raises ReplError at once."""
        while True:
            nl = self._pending.find(b"\n")
            if nl >= 0:
                raw, self._pending = self._pending[:nl], self._pending[nl + 1:]
                # A REPL prompt left without its newline (the board was reset, or
                # power-cut, at the REPL) is not part of the next line: `!boot`
                # after it must still read as `!boot`.
                while raw.startswith(REPL_PROMPT):
                    raw = raw[len(REPL_PROMPT):]
                try:
                    return raw.decode("ascii").rstrip("\r")
                except UnicodeDecodeError:
                    self.garbled += 1
                    continue
            if repl_fails and self._pending.endswith(REPL_PROMPT):
                self._pending = b""
                raise self._repl_error("REPL answered")
            if time.monotonic() >= deadline:
                return None
            try:
                chunk = self.serial.read(max(1, self.serial.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise CopflowError(f"{self.url}: read failed: {_reason(exc)}") from None
            if chunk:
                self._pending += chunk
                if len(self._pending) > 65536:  # no newline in 64 KiB: not our protocol
                    self._pending = b""
                    self.garbled += 1

    def pump(self, deadline: float) -> None:
        """Read and dispatch unsolicited lines (telemetry) until the deadline."""
        while True:
            text = self.read_line(deadline)
            if text is None:
                return
            if text.startswith("!"):
                self.dispatch_unsolicited(text)

    def dispatch_unsolicited(self, line: str) -> None:
        if self.on_unsolicited:
            self.on_unsolicited(line)

    # ---- requests --------------------------------------------------------
    def room(self) -> int:
        """How many bytes the next request line may have: the board's line limit less
        the tag this link puts in front of it."""
        return MAX_LINE - len(self._next_tag()) - 2

    def _next_tag(self) -> str:
        return f"c{self._count + 1}"

    def request(self, line: str, timeout_s: float | None = None) -> Response:
        if "\n" in line or "\r" in line:
            raise CopflowError("a request is one line")
        tag = self._next_tag()
        self._count += 1
        framed = f"#{tag} {line}"
        if len(framed.encode("ascii", "replace")) > MAX_LINE:
            raise CopflowError(f"not sent: the request {line.split()[0]!r} is "
                               f"{len(framed)} bytes with its tag, the board's line limit is "
                               f"{MAX_LINE}")
        self.write_raw(f"{framed}\n".encode("ascii", "replace"))
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        response = None
        expected_extra = 0
        while True:
            text = self.read_line(deadline, repl_fails=True)
            if text is None:
                raise CopflowError(
                    f"no response from {self.url} within {timeout_s or self.timeout_s:g} s "
                    f"to {line.split()[0]!r}: is copflow running there (not the REPL)?")
            if RAW_REPL_BANNER in text:
                raise self._repl_error("raw REPL is there")
            if response is not None and text.startswith("!param "):
                response.extra.append(text[1:])
                if len(response.extra) >= expected_extra:
                    return response
                continue
            if text.startswith("!"):
                self.dispatch_unsolicited(text)
                continue
            match = RESPONSE.match(text)
            if not match:
                toolong = TOOLONG.match(text)
                if toolong and response is None and len(framed) > int(toolong["limit"]):
                    # ours: longer than the limit the board names, so it lost our tag
                    return Response(False, toolong["rest"], toolong["code"])
                self.garbled += 1
                continue
            if match["tag"] != tag:
                continue  # the answer to an earlier, abandoned request
            rest = match["rest"] or ""
            if match["kind"] == "ok":
                response = Response(True, rest)
                n = response.fields().get("n")
                expected_extra = int(n) if line.split()[0] == "list" and n else 0
                if expected_extra == 0:
                    return response
            else:
                code, _, message = rest.partition(" ")
                return Response(False, message, code)

    def command(self, line: str, timeout_s: float | None = None) -> Response:
        """Like request, but an `err` answer raises LinkError."""
        response = self.request(line, timeout_s)
        if not response.ok:
            raise LinkError(response.code, response.body, self.url)
        return response

    def wait_for(self, prefix: str, timeout_s: float) -> str:
        """Wait for an unsolicited line starting with prefix (e.g. "!boot")."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.read_line(deadline)
            if text is None:
                raise CopflowError(f"{self.url}: no {prefix!r} line within {timeout_s:g} s")
            if text.startswith(prefix):
                return text
            if text.startswith("!"):
                self.dispatch_unsolicited(text)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "could not open port" in text and ":" in text:
        text = text.split(":", 1)[1].strip()
    return text or type(exc).__name__
