# The console on the interpreter's stdin/stdout: the USB serial (or UART0
# bridge) on a board, the pseudo-terminal on the virtual board. Neither
# direction ever waits for the host (docs/reliability.md, "Console"):
# - in: a byte is read only when poll says one is there, one at a time (a
#   board's stdin read of n bytes waits for all n);
# - out: lines go into a preallocated ring; each slice console_flush() hands
#   the port at most TX_CHUNK bytes, and only when poll says it takes them.
#   TX_CHUNK per 10 ms slice stays under what UART0 shifts out at 115200 baud,
#   so an ESP32's write never finds its 128-byte FIFO full; RP2's USB CDC
#   reports POLLOUT only while its FIFO has room. A line that does not fit the
#   ring is not sent and counted (tx_lost); the console checks the room before
#   it builds a telemetry line (console.Console.tick) and before it reads a
#   request (responses are never dropped: the host's next request waits).
import select
import sys

from core.compat import const

TX_SIZE = const(768)  # the ring: a response (console._RESPONSE_ROOM) and a little more
TX_CHUNK = const(96)  # bytes per slice: 9.6 KB/s, UART0 carries 11.5 KB/s


class StdioConsole:
    tx_lost = 0

    def __init__(self):
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._wpoll = select.poll()
        self._wpoll.register(sys.stdout, select.POLLOUT)
        self._stdin = sys.stdin.buffer  # bytes, one at a time
        self._port = sys.stdout  # text: a board sends "\n" as "\r\n"
        self._one = bytearray(1)
        self.tx_init()

    def tx_init(self):
        self._tx = bytearray(TX_SIZE)
        self._txv = memoryview(self._tx)
        self._head = 0  # the next byte to send
        self._used = 0  # bytes waiting
        self.tx_lost = 0  # lines that did not fit the ring (never silently)

    # ---- the port: a board's stdio, or a test's stand-in ---------------------
    def console_ready(self) -> bool:
        """A byte is waiting (poll, nothing read). ipoll: no allocation."""
        for _ in self._poll.ipoll(0):
            return True
        return False

    def console_read(self) -> int:
        for _ in self._poll.ipoll(0):
            if self._stdin.readinto(self._one):
                return self._one[0]
        return -1

    def wait_input(self, timeout_ms: int):
        for _ in self._poll.ipoll(timeout_ms):
            return

    def _writable(self) -> bool:
        for _ in self._wpoll.ipoll(0):
            return True
        return False

    def _send(self, view) -> int:
        n = self._port.write(view)
        return len(view) if n is None else n

    # ---- output -----------------------------------------------------------
    def console_write(self, text) -> bool:
        """Queue one line (or a few); False when it does not fit (counted in tx_lost)."""
        data = text.encode()
        n = len(data)
        if n > TX_SIZE - self._used:
            self.tx_lost += 1
            return False
        tail = self._head + self._used
        if tail >= TX_SIZE:
            tail -= TX_SIZE
        first = TX_SIZE - tail
        if n <= first:
            self._txv[tail:tail + n] = data
        else:
            self._txv[tail:] = data[:first]
            self._txv[:n - first] = data[first:]
        self._used += n
        return True

    def console_room(self) -> int:
        return TX_SIZE - self._used

    def console_flush(self):
        """Each slice: at most TX_CHUNK queued bytes to the port, if it takes them now."""
        if self._used and self._writable():
            self._out(TX_CHUNK)

    def console_drain(self):
        """Everything queued, as the port writes it (the fail-safe, before a reset or
        the REPL: the port's own limits apply, docs/reliability.md#console)."""
        while self._used and self._out(TX_SIZE) > 0:
            pass

    def _out(self, limit: int) -> int:
        head = self._head
        n = TX_SIZE - head  # up to the end of the ring; the rest next time
        if n > self._used:
            n = self._used
        if n > limit:
            n = limit
        sent = self._send(self._txv[head:head + n])
        if sent > 0:
            head += sent
            self._head = head if head < TX_SIZE else 0
            self._used -= sent
        return sent
