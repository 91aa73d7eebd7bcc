# The virtual board's hardware layer without a board profile: the console is
# the process's stdin and stdout (a pseudo-terminal on the host); there are no
# sensors or actuators, so measurements stay missing (the loop sits in its
# documented safe state) until HIL injection provides them.
import sys

from stdio_console import StdioConsole

SOFT_RESET_EXIT = 100


class SimHal(StdioConsole):
    board_name = "virtual"
    boot_error = ""
    watchdog_reset = False
    bms = None  # no BMS port without a board profile

    def __init__(self, board_name: str = "virtual"):
        StdioConsole.__init__(self)
        self.board_name = board_name
        self.last_output_pct = 0.0

    def poll(self, now_ms: int):
        pass

    def read(self, meas):
        pass  # no sensors: missing measurements, until HIL injection

    def write(self, cmd):
        self.last_output_pct = cmd.output_pct

    def start_watchdog(self):
        pass  # no watchdog without a board profile

    def feed(self):
        pass

    def safe(self):
        self.last_output_pct = 0.0

    def reset(self):
        virtual_reset()


def virtual_reset():
    # The virtual board restarts the interpreter when it ends with this
    # status: a fresh heap, like a soft reset on a board. The host's "exit"
    # call ends it without unwinding the stack.
    try:
        import host  # pyright: ignore[reportMissingImports] -- virtual board only
    except ImportError:
        sys.exit(SOFT_RESET_EXIT)
    host.call("exit", str(SOFT_RESET_EXIT))

