# The console on the interpreter's stdin/stdout: the USB serial (or UART0
# bridge) on a board, the pseudo-terminal on the virtual board. Non-blocking:
# a byte is read only when select says one is there.
import select
import sys


class StdioConsole:
    def __init__(self):
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._stdin = sys.stdin.buffer  # bytes, one at a time
        self._out = sys.stdout

    def console_read(self) -> int:
        if not self._poll.poll(0):
            return -1
        data = self._stdin.read(1)
        if not data:
            return -1
        return int(data[0])

    def wait_input(self, timeout_ms: int):
        self._poll.poll(timeout_ms)

    def console_write(self, text: str):
        self._out.write(text)
