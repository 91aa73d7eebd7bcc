# The serial console, protocol v1 (docs/protocol.md). Bytes are fed in by the
# board loop a few at a time (never blocking a tick); a complete line is
# parsed and answered with exactly one response line. Formatting happens only
# when a line is actually sent. Commands used now and then live in
# console_extra.py and console_coeffs.py, imported for one request and dropped again.
#
# Ctrl-C (docs/reliability.md, "Console"): a single 0x03 is line noise (the
# line it is in gets E_SYNTAX). The board goes to the REPL on two Ctrl-C
# within BREAK_MS, or on "\r" Ctrl-C followed by any byte within BREAK_MS
# (mpremote's "\r\x03" then "\r\x01"): that byte is left unread, for the
# REPL. The loop runs with the port's Ctrl-C interrupt off
# (micropython.kbd_intr(-1), app.start), so the console decides.
import sys

from core import config as config_mod
from core.compat import as_number, const
from core.controller import STATE_NAMES
from core.ticks import ticks_diff

PROTOCOL = 1
MAX_LINE = const(200)
BREAK_MS = const(500)  # the two halves of a break into the REPL
_BYTES_PER_SLICE = const(64)  # input parsed per slice
_DISCARD_PER_SLICE = const(256)  # bytes of an overlong line dropped per slice
# Output room (stdio_console): a request is read only when its response fits,
# a telemetry line is built only when it fits, else it is dropped and counted.
_RESPONSE_ROOM = const(640)
_TEL_ROOM = const(448)
_LINE_ROOM = const(160)  # a `!param` line of a list answer

_FEED_NONE = const(0)
_FEED_LINE = const(1)
_FEED_TOOLONG = const(2)
_FEED_CTRL_C = const(3)  # inside a line: noise unless a second one follows
_FEED_BREAK = const(4)  # "\r" then Ctrl-C: a break if anything follows


class ConsoleError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class LineReader:
    """Collects bytes into a preallocated buffer; tells the caller when a line is
    complete. Bytes past max_len are dropped as they arrive (constant time each)."""

    def __init__(self, max_len=MAX_LINE):
        self.buf = bytearray(max_len)
        self.n = 0
        self.overflow = False
        self.cr = False  # the last byte was "\r"

    def feed(self, byte: int) -> int:
        cr = self.cr
        self.cr = byte == 13
        if byte == 10:
            if self.overflow:
                self.overflow = False
                self.n = 0
                return _FEED_TOOLONG
            return _FEED_LINE
        if byte == 13:
            return _FEED_NONE
        if byte == 3 and cr:  # a break starts: the line is abandoned
            self.n = 0
            self.overflow = False
            return _FEED_BREAK
        if self.n >= len(self.buf):
            self.overflow = True
        else:
            self.buf[self.n] = byte  # a Ctrl-C stays in: the line is answered E_SYNTAX
            self.n += 1
        return _FEED_CTRL_C if byte == 3 else _FEED_NONE

    def take(self) -> bytes:
        line = bytes(self.buf[: self.n])
        self.n = 0
        return line


def fmt(x) -> str:
    if isinstance(x, float):
        return "%.6g" % x
    if isinstance(x, bool):
        return "1" if x else "0"
    return str(x)


def _parse_number(text: str):
    value = as_number(text)
    if value is None:
        raise ConsoleError("E_VALUE", "%r is not a finite number" % text)
    return value


class Console:
    """Parses requests and acts on the app (controller, store, telemetry, lock)."""

    def __init__(self, app, write, port=None):
        self.app = app
        self.write = write  # write(str) queues one complete line, "\n" included
        self.port = port  # stdio_console.StdioConsole: its output room, lost lines
        self.reader = LineReader()
        self.tel_on = False
        self.tel_period_ms = 1000
        self._tel_ms = 0
        self.locked = False
        self.dropped = 0  # telemetry lines not sent: the host was not reading
        self._list = None  # a list answer's prefix while its lines go out (_pump)
        self._next = 0  # the PARAMS entry the next of them starts from
        self._ctrl_c = False  # a Ctrl-C came at _ctrl_c_ms
        self._ctrl_c_ms = 0
        self._armed = False  # "\r" Ctrl-C: the next byte within BREAK_MS breaks

    # ---- input ----------------------------------------------------------
    def service(self, hal, now: int):
        """One slice of console I/O (app.App.slice), bounded: the rest of a list
        answer, or up to _BYTES_PER_SLICE bytes of input (one request at most;
        more of an overlong line, which is only dropped); then queued output to
        the port (hal.console_flush). `now`: the loop's tick time."""
        if self._armed:
            if hal.console_ready():
                self.app.interrupt()  # the byte is the REPL's to read
            elif ticks_diff(now, self._ctrl_c_ms) > BREAK_MS:
                self._armed = False  # a lone Ctrl-C: noise
        elif self._pump() and hal.console_room() >= _RESPONSE_ROOM:
            self._read(hal, now)
        hal.console_flush()

    def _read(self, hal, now: int):
        reader = self.reader
        budget = _BYTES_PER_SLICE
        i = 0
        while i < budget:
            byte = hal.console_read()
            if byte < 0:
                return
            if self.feed(byte, now):
                return  # one request per slice: a collection may run before the next
            i += 1
            if reader.overflow:
                budget = _DISCARD_PER_SLICE

    def feed(self, byte: int, now: int = 0) -> bool:
        """Feed one received byte at tick time `now`; True when a request was
        answered (or a break is pending: read no further this slice).

        Two Ctrl-C within BREAK_MS hand the board to its REPL (app.interrupt)."""
        status = self.reader.feed(byte)
        if status == _FEED_LINE:
            line = self.reader.take()
            # Only spaces (and a terminal's \r) make a blank line; any other
            # control byte is answered E_SYNTAX (docs/protocol.md).
            if line.strip(b" \r"):
                self.write(self.respond(line) + "\n")
                self._pump()
                return True
        elif status == _FEED_TOOLONG:
            self.write("err E_TOOLONG line longer than %d bytes\n" % MAX_LINE)
            return True
        elif status != _FEED_NONE:
            if self._ctrl_c and ticks_diff(now, self._ctrl_c_ms) <= BREAK_MS:
                self.app.interrupt()  # the second Ctrl-C
            self._ctrl_c = True
            self._ctrl_c_ms = now
            self._armed = status == _FEED_BREAK
            return self._armed
        return False

    def _pump(self) -> bool:
        """The `!param` lines of a list answer, each made when the output has room
        for it (none is held in memory); True when none are left."""
        prefix = self._list
        if prefix is None:
            return True
        params = config_mod.PARAMS
        i = self._next
        while i < len(params):
            entry = params[i]
            if entry[0].startswith(prefix):
                if self._room() < _LINE_ROOM:
                    self._next = i
                    return False
                self.write("!param %s\n" % self._describe(entry))
            i += 1
        self._list = None
        return True

    def _room(self) -> int:
        port = self.port
        return 1 << 20 if port is None else port.console_room()

    def respond(self, raw: bytes) -> str:
        """One request line (bytes, no terminator) -> one response line (no terminator)."""
        tag = ""
        try:
            for b in raw:
                if b < 32 or b > 126:
                    raise ConsoleError("E_SYNTAX", "non-ASCII or control byte")
            words = raw.decode().split()
            if not words:
                raise ConsoleError("E_SYNTAX", "empty request")
            if words[0][0] == "#":
                tag = words[0]
                if not 2 <= len(tag) <= 9 or not _alnum(tag[1:]):
                    tag = ""
                    raise ConsoleError("E_SYNTAX", "a tag is # and 1-8 letters or digits")
                words = words[1:]
                if not words:
                    raise ConsoleError("E_SYNTAX", "tag without a command")
            self._list = None
            body = self.dispatch(words[0], words[1:])
            out = "ok" if not body else "ok " + body
        except ConsoleError as exc:
            out = "err %s %s" % (exc.code, exc)
        except config_mod.ConfigError as exc:
            out = "err %s %s" % (exc.code, exc)
        except MemoryError:
            out = "err E_INTERNAL out of memory"
        except Exception as exc:  # a bug must not stop the loop
            out = "err E_INTERNAL %s: %s" % (type(exc).__name__, exc)
        out = out.replace("\n", " ").replace("\r", " ")
        return tag + " " + out if tag else out

    # ---- commands -------------------------------------------------------
    def dispatch(self, cmd: str, args) -> str:
        handler = _COMMANDS.get(cmd)
        if handler is None and cmd not in _EXTRA:
            raise ConsoleError("E_UNKNOWN", "unknown command %r; try hello, status, list" % cmd)
        # Fail closed: every command acts unless it is one that only reads.
        if self.locked and cmd not in _READS and (args or cmd not in _READS_BARE):
            raise ConsoleError("E_LOCKED", "console is locked; unlock PIN first")
        if handler is None:
            return _extra(cmd, self, args)
        return handler(self, args)

    def _need(self, args, n, usage):
        if len(args) != n:
            raise ConsoleError("E_SYNTAX", "usage: " + usage)

    def cmd_hello(self, args):
        app = self.app
        return "copflow=%s proto=%d board=%s uptime_s=%d" % (
            app.version, PROTOCOL, app.board_name, app.uptime_s())

    def cmd_status(self, args):
        return self.status_words()

    def status_words(self) -> str:
        app = self.app
        c = app.controller
        cmd = c.cmd
        p = c.config["params"]
        m = c.meas
        cop = 0.0
        if cmd.season and c.has_temperature():
            cop = c.model_cop(cmd.flow_pct, cmd.t_filt_c, cmd.season)
        meter = app.meter.cop
        return ("mode=%s state=%s season=%s t_in_c=%s flow_pct=%s flow_sp_pct=%s p_opt_pct=%s "
                "output_pct=%s pump=%s cop_model=%s cop_meas=%s alarms=%x ticks=%d "
                "overruns=%d skipped=%d dropped=%d") % (
            p["mode"], STATE_NAMES[cmd.state], ("?", "cooling", "heating")[cmd.season],
            fmt(m.t_in_c) if m.t_in_c is not None else "none", fmt(cmd.flow_pct),
            fmt(cmd.flow_sp_pct), fmt(cmd.p_opt_pct), fmt(cmd.output_pct), fmt(cmd.pump_run),
            fmt(cop), "none" if meter is None else fmt(meter), cmd.alarms, cmd.ticks,
            app.overruns(), app.skipped(), self.dropped)

    def cmd_get(self, args):
        self._need(args, 1, "get NAME")
        config_mod.spec(args[0])
        return "%s=%s" % (args[0], fmt(self.app.controller.config["params"][args[0]]))

    def cmd_set(self, args):
        self._need(args, 2, "set NAME VALUE")
        return self._set(args[0], args[1])

    def _set(self, name, text):
        _, unit, _, _, _, _ = config_mod.spec(name)
        value = text if isinstance(unit, tuple) else _parse_number(text)
        value = self.app.controller.set_param(name, value)
        self.app.config_changed()
        return "%s=%s" % (name, fmt(value))

    def cmd_mode(self, args):
        self._need(args, 1, "mode off|manual|auto")
        return self._set("mode", args[0])

    def cmd_out(self, args):
        self._need(args, 1, "out PCT")
        return self._set("manual_output_pct", args[0])

    def cmd_season(self, args):
        self._need(args, 1, "season auto|cooling|heating")
        return self._set("season", args[0])

    # list and param stay resident too: `list` is the first thing a commissioning
    # session asks for, and a module import would add to its own allocations.
    def cmd_list(self, args):
        prefix = args[0] if args else ""
        n = 0
        for entry in config_mod.PARAMS:
            if entry[0].startswith(prefix):
                n += 1
        self._list = prefix  # the lines follow the response (_pump)
        self._next = 0
        return "n=%d" % n

    def cmd_param(self, args):
        self._need(args, 1, "param NAME")
        return self._describe(config_mod.spec(args[0]))

    def _describe(self, entry):
        name, unit, low, high, _, _ = entry
        value = self.app.controller.config["params"][name]
        if isinstance(unit, tuple):
            return "%s=%s unit=enum range=%s" % (name, value, "|".join(unit))
        return "%s=%s unit=%s range=%s..%s" % (name, fmt(value), unit or "1", low, high)

    # save and load stay resident: they are what a nearly full heap must still
    # manage, and a module import would add to their own allocations.
    def cmd_save(self, args):
        self.app.save_config()
        return "saved"

    def cmd_load(self, args):
        self.app.load_config()
        return "loaded"

    def cmd_defaults(self, args):
        self.app.controller.apply_config(config_mod.defaults())
        self.app.config_changed()
        return "defaults"

    def cmd_hil(self, args):
        # Only the requests of a running HIL session are served here, where they
        # are fast; starting, stopping and the usage text come from console_extra.
        sub = args[0] if args else ""
        if sub != "step" and sub != "meas":
            return _extra("hil", self, args)
        from hil import LOCKSTEP, REALTIME, HilError

        app = self.app
        hil = app.hil
        try:
            if sub == "step":
                if hil.mode != LOCKSTEP:
                    raise ConsoleError("E_STATE", "hil step needs hil lockstep first")
                dt = as_number(args[1]) if len(args) > 1 else None
                if dt is None or dt != int(dt) or not 1 <= dt <= 3600000:
                    raise ConsoleError("E_RANGE", "hil step DT_MS: 1..3600000 ms")
                hil.parse(args[2:])
                cmd = app.hil_step(int(dt))
                meter = app.meter.cop
                return ("out=%s pump=%s sp=%s popt=%s flow=%s state=%s alarms=%x season=%d "
                        "t=%d cop_meas=%s") % (
                    fmt(cmd.output_pct), fmt(cmd.pump_run), fmt(cmd.flow_sp_pct),
                    fmt(cmd.p_opt_pct), fmt(cmd.flow_pct), STATE_NAMES[cmd.state], cmd.alarms,
                    cmd.season, hil.clock_ms, "none" if meter is None else fmt(meter))
            if hil.mode != REALTIME:
                raise ConsoleError("E_STATE", "hil meas needs hil realtime first")
            hil.parse(args[1:])
            hil.streamed(app.now_ms())
        except HilError as exc:
            raise ConsoleError("E_VALUE", str(exc))
        return "hil=realtime"

    def cmd_reboot(self, args):
        self.app.request_reboot()
        return "rebooting"

    # The maintenance flag (safe_out.MAINT_FILE); console tests point it elsewhere.
    maint_file = "/maint"

    def cmd_maint(self, args):
        # A hard reset into maintenance (docs/deploy.md): only a hardware reset
        # stops a running watchdog, and at boot main.py finds the flag, removes
        # it and stops at the REPL with outputs safe and no watchdog started.
        self._need(args, 0, "maint")
        try:
            with open(self.maint_file, "w") as f:
                f.write("maint\n")
        except OSError as exc:
            raise ConsoleError("E_STORAGE", "cannot write %s: %s" % (self.maint_file, exc))
        self.app.request_reboot()
        return "maint"

    # ---- telemetry ------------------------------------------------------
    def tick(self, dt_ms: int):
        """Called once per control tick: sends a telemetry line when one is due."""
        if not self.tel_on:
            return
        self._tel_ms += dt_ms
        if self._tel_ms >= self.tel_period_ms:
            self._tel_ms = 0
            # A host that does not read gets no telemetry, never a stalled loop.
            if self._room() < _TEL_ROOM:
                self.dropped += 1
            elif self.write("!tel " + self.status_words() + "\n") is False:
                self.dropped += 1


def _alnum(text):
    for ch in text:
        if not ("0" <= ch <= "9" or "a" <= ch <= "z" or "A" <= ch <= "Z"):
            return False
    return True


def _extra(cmd, console, args):
    """Run a console_extra (console_coeffs for `coeffs`) command; the module goes
    again afterwards (and only its names stay interned), so a rarely used command
    costs heap only while it runs."""
    name = "console_coeffs" if cmd == "coeffs" else "console_extra"
    try:
        return getattr(__import__(name), "cmd_" + cmd)(console, args)
    finally:
        sys.modules.pop(name, None)


_COMMANDS = {
    "hello": Console.cmd_hello,
    "status": Console.cmd_status,
    "list": Console.cmd_list,
    "param": Console.cmd_param,
    "get": Console.cmd_get,
    "set": Console.cmd_set,
    "mode": Console.cmd_mode,
    "out": Console.cmd_out,
    "season": Console.cmd_season,
    "save": Console.cmd_save,
    "load": Console.cmd_load,
    "defaults": Console.cmd_defaults,
    "reboot": Console.cmd_reboot,
    "maint": Console.cmd_maint,
    "hil": Console.cmd_hil,
}
_EXTRA = ("coeffs", "lock", "unlock", "pin", "mem", "tel", "alarms", "ack", "opt")
# What a locked console still answers: commands that only read (lock and unlock
# are how the lock works; tel changes this session's output, not the plant), and
# coeffs and hil without arguments (they show the set and the mode).
_READS = ("hello", "status", "list", "param", "get", "mem", "tel", "alarms", "lock", "unlock")
_READS_BARE = ("coeffs", "hil", "opt")
