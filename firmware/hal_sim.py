# The virtual board's hardware layer: the console is the process's stdin and
# stdout (a pseudo-terminal on the host); there are no sensors or actuators, so
# measurements stay missing (the loop sits in its documented safe state) until
# HIL injection provides them.
import select
import sys

SOFT_RESET_EXIT = 100


class SimHal:
    board_name = "virtual"

    def __init__(self, board_name: str = "virtual"):
        self.board_name = board_name
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._stdin = sys.stdin.buffer  # bytes, one at a time
        self._out = sys.stdout
        self.last_output_pct = 0.0

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

    def read(self, meas):
        pass  # no sensors: missing measurements, until HIL injection

    def write(self, cmd):
        self.last_output_pct = cmd.output_pct

    def reset(self):
        # The virtual board restarts the interpreter when it ends with this
        # status: a fresh heap, like a soft reset on a board. The host's "exit"
        # call ends it without unwinding the stack.
        try:
            import host  # pyright: ignore[reportMissingImports] -- virtual board only
        except ImportError:
            sys.exit(SOFT_RESET_EXIT)
        host.call("exit", str(SOFT_RESET_EXIT))

    def interrupt(self):
        try:
            import vrepl  # pyright: ignore[reportMissingImports] -- virtual board only
        except ImportError:
            raise KeyboardInterrupt
        vrepl.interrupted()
