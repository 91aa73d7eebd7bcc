# The virtual board's REPL, running inside the host MicroPython. It boots
# /main.py as a board does; Ctrl-C drops to a friendly REPL; Ctrl-A gives the
# raw REPL that mpremote drives (raw-paste is declined, so mpremote falls back
# to plain raw mode); Ctrl-D soft-resets by exiting with a status the host
# turns into a restart of the interpreter (a fresh heap, the same flash).
#
# Frames stay small wherever gc.collect() runs (docs/micropython-host.md).
import gc

gc.disable()
import sys  # noqa: E402

SOFT_RESET_BOOT = 100  # restart and run main.py
SOFT_RESET_RAW = 101  # restart straight into the raw REPL (mpremote's soft reset)
BANNER = "MicroPython v1.27 (copflow virtual board); type Ctrl-D for a soft reset\r\n"
RAW_BANNER = "raw REPL; CTRL-B to exit\r\n>"

_in = sys.stdin.buffer
_out = sys.stdout
G = {"__name__": "__main__"}


def write(text):
    _out.write(text)


def getc():
    data = _in.read(1)
    if not data:
        sys.exit(0)  # the host closed the console
    return data[0]


def print_exception(exc):
    sys.print_exception(exc, _out)


def run_main():
    if "main" in sys.modules:
        return
    try:
        open("/main.py").close()
    except OSError:
        return
    try:
        __import__("main")
    except KeyboardInterrupt:
        write("Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n")
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: B036 -- a board prints anything and goes on
        print_exception(exc)


def execute(source, raw):
    try:
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
    except SystemExit:
        raise
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
                sys.exit(SOFT_RESET_RAW)
            write("OK")
            if execute(bytes(buf).decode(), True):
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


def read_line(prompt):
    write(prompt)
    buf = bytearray()
    while True:
        c = getc()
        if c in (10, 13):
            write("\r\n")
            return bytes(buf).decode()
        if c == 3:
            write("\r\nKeyboardInterrupt\r\n")
            return ""
        if c == 4 and not buf:
            return None
        if c == 1 and not buf:
            return 1
        if c in (8, 127):
            if buf:
                buf.pop()
                write("\b \b")
        elif c >= 32:
            buf.append(c)
            write(chr(c))


def friendly_repl():
    write(BANNER)
    while True:
        line = read_line(">>> ")
        if line is None:
            write("MPY: soft reboot\r\n")
            sys.exit(SOFT_RESET_BOOT)
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


def main():
    sys.path[:0] = ["/", "/lib"]
    if "raw" in sys.argv[1:]:
        raw_repl()
    else:
        run_main()
    friendly_repl()


main()
