# The virtual board's REPL, running inside the host MicroPython (imported by
# vboot.py). It boots /main.py as a board does; Ctrl-C in the firmware's
# console calls interrupted(), which runs the friendly REPL in place; Ctrl-A
# gives the raw REPL that mpremote drives (raw-paste is declined, so mpremote
# falls back to plain raw mode); Ctrl-D soft-resets.
#
# Nothing here returns or raises back into the firmware or into module-level
# code: a soft reset ends the interpreter through the host's "exit" call and
# the host starts a fresh one on the same flash (docs/micropython-host.md).
# Frames stay small wherever gc.collect() runs.
import gc
import sys

SOFT_RESET_BOOT = 100  # restart and run main.py
SOFT_RESET_RAW = 101  # restart straight into the raw REPL (mpremote's soft reset)
BANNER = "MicroPython v1.27 (copflow virtual board); type Ctrl-D for a soft reset\r\n"
RAW_BANNER = "raw REPL; CTRL-B to exit\r\n>"

_in = sys.stdin.buffer
_out = sys.stdout
G = {"__name__": "__main__"}


def write(text):
    _out.write(text)


def exit_now(status):
    import host

    host.call("exit", str(status))


def getc():
    data = _in.read(1)
    if not data:
        exit_now(0)  # the host closed the console
    return data[0]


def print_exception(exc):
    sys.print_exception(exc, _out)


def has_main():
    try:
        open("/main.py").close()
    except OSError:
        return False
    return True


def run_main():
    # Returns only if main.py stops with an error (it is printed, as a board
    # does); a firmware that runs ends in interrupted() or a soft reset.
    if has_main():
        import_main()


def import_main():
    try:
        __import__("main")
    except Exception as exc:  # noqa: BLE001 -- a board prints it and goes to the REPL
        print_exception(exc)


def interrupted():
    """Ctrl-C in the firmware's console: the REPL, in place, for good."""
    write("\r\nKeyboardInterrupt: \r\n")
    friendly_repl()


def execute(source, raw):
    """Run a line (str) or a raw-mode script (bytes, decoded here: bytes that are
    not UTF-8 are reported as the error they are, like any other)."""
    try:
        if not isinstance(source, str):
            source = source.decode()
        try:
            code = compile(source, "<stdin>", "eval") if not raw else None
        except SyntaxError:
            code = None
        if code is not None:
            value = eval(code, G)
            if value is not None:
                write(repr(value) + "\r\n")
        else:
            exec(source, G)
    except BaseException as exc:  # noqa: B036 -- the REPL reports every error
        if raw:
            write("\x04")
        print_exception(exc)
        return False
    return True


def raw_repl():
    write(RAW_BANNER)
    buf = bytearray()
    while True:
        c = getc()
        if c == 4:
            if not buf:
                write("soft reboot\r\n")
                exit_now(SOFT_RESET_RAW)
            write("OK")
            if execute(bytes(buf), True):
                write("\x04")
            write("\x04>")
            buf = bytearray()
            gc.collect()
        elif c == 2:
            write("\r\n" + BANNER + ">>> ")
            return
        elif c == 3:
            buf = bytearray()
        elif c == 5 and not buf:
            # Raw-paste request: "\x05A\x01". Decline; mpremote falls back.
            if getc() == 65 and getc() == 1:
                write("R\x00")
        elif c == 1:
            write("\r\n" + RAW_BANNER)
            buf = bytearray()
        else:
            buf.append(c)
            if not len(buf) & 1023:
                gc.collect()  # each byte read is a small object: long scripts (deploy's)


def read_line(prompt):
    write(prompt)
    buf = bytearray()
    while True:
        c = getc()
        if c in (10, 13):
            write("\r\n")
            return decoded(buf)
        if c == 3:
            write("\r\nKeyboardInterrupt\r\n")
            return ""
        if c == 4 and not buf:
            return None
        if c == 1 and not buf:
            return 1
        if c in (8, 127):
            if buf:
                buf = buf[:-1]  # MicroPython's bytearray has no pop()
                write("\b \b")
        elif c >= 32:
            buf.append(c)
            write(chr(c))


def decoded(buf):
    # A line that is not UTF-8 gets its error, as a board's REPL gives one, and
    # the REPL goes on: any byte can arrive on a serial line.
    try:
        return bytes(buf).decode()
    except UnicodeError as exc:
        print_exception(exc)
        return ""


def friendly_repl():
    write(BANNER)
    while True:
        line = read_line(">>> ")
        if line is None:
            write("MPY: soft reboot\r\n")
            exit_now(SOFT_RESET_BOOT)
        if line == 1:
            raw_repl()
            continue
        while line.endswith(":") or line.startswith((" ", "\t")) and line.strip():
            more = read_line("... ")
            if not isinstance(more, str) or not more:
                break
            line = line + "\n" + more
        if line.strip():
            execute(line, False)
        gc.collect()


def boot(raw):
    sys.path[:0] = ["/", "/lib"]
    if raw:
        raw_repl()
    else:
        run_main()
    friendly_repl()
