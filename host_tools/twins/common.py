# Machine-side classes shared by the port twins. Each port module subclasses
# these, adds its constants and argument tables, and binds them to one Board.
# Public methods here are only those both ports' machine classes have
# (extmod/machine_*.c at v1.27.0); state lives on the Board, in _private names.
from . import args as A
from .board import BoardReset, WdtState
from .uart import UartLine


def bind(cls, board):
    """A subclass of cls whose instances act on `board` (one board's machine module)."""

    return type(cls.__name__, (cls,), {"_board": board, "_port": board.port,
                                       "__module__": cls.__module__})


def static_object(cls, key):
    """The one object a port keeps for `key` in a static C table (flash or .data,
    not the GC heap): the constructor hands back the same object every time."""
    objs = cls._board.statics
    obj = objs.get(key)
    if obj is None:
        obj = object.__new__(cls)
        objs[key] = obj
    return obj


class PinCommon:
    _board = None
    _port = None

    def __new__(cls, id, *pos, **kw):
        # Pin(id) is the GPIO's entry in the port's static pin table, configured
        # again when arguments are given (esp32 machine_pin.c:236-251, rp2
        # machine_pin.c:165-188, :323): never a new object on the heap.
        return static_object(cls, cls._port.find_pin(cls._board, id))

    def __init__(self, id, *pos, **kw):
        self._id = self._port.find_pin(self._board, id)
        if pos or kw:
            self.init(*pos, **kw)

    def __repr__(self):
        return "Pin(%s)" % (self._id,)

    def init(self, *pos, **kw):
        self._port.pin_init(self._board, self._id, pos, kw)

    def value(self, *pos):
        if len(pos) > 1:
            raise TypeError("function expected at most 2 arguments, got %d" % (len(pos) + 1))
        if not pos:
            return self._board.level(self._id)
        self._write(1 if pos[0] else 0)
        return None

    def __call__(self, *pos, **kw):
        A.check_num(len(pos), len(kw), 0, 1, False)
        return self.value(*pos)

    def on(self):
        self._write(1)

    def off(self):
        self._write(0)

    def toggle(self):
        self._write(1 - self._board.pin(self._id).latch)

    def _write(self, level):
        def set_latch(s):
            s.latch = level
            s.log_write(level)

        self._board.change(self._id, set_latch)

    def _set_irq(self, handler, trigger, hard):
        s = self._board.pin(self._id)
        if handler is None:
            s.handler = None
            s.trigger = 0
        else:
            s.handler = handler
            s.trigger = trigger
        s.hard = hard
        s.pin = self


def pin_id(board, pin):
    """machine_pin_get_id: a Pin of this board or a pin number."""
    return board.port.find_pin(board, pin)


def configure_pin(board, pid, mode=None, pull=None, value=None, set_pull=False):
    """Apply a Pin.init() that passed the port's checks (None: leave as is)."""

    def apply(s):
        if value is not None:
            s.latch = 1 if value else 0
            s.log_write(s.latch)
        if mode is not None:
            s.mode = mode
        if set_pull:
            s.pull_up = bool(pull and pull[0])
            s.pull_down = bool(pull and pull[1])

    board.change(pid, apply)


class IrqObj:
    """What Pin.irq() returns (the port decides which methods it has)."""

    def __init__(self, board, pid):
        self._board = board
        self._id = pid

    def trigger(self, *pos):
        s = self._board.pin(self._id)
        old = s.trigger
        if pos:
            s.trigger = A.get_int(pos[0])
        return old


# ---- UART -------------------------------------------------------------------
class UartCommon:
    _board = None
    _port = None

    def __init__(self, *pos, **kw):
        A.check_num(len(pos), len(kw), 1, 1 << 30, True)
        uid = A.get_int(pos[0])
        self._port.uart_check_id(uid)
        self._id = uid
        board = self._board
        fresh = uid not in board.uarts
        if fresh:
            line = board.lines.get(uid)
            if line is None:
                line = UartLine(board.clock, uid)
                board.lines[uid] = line
            self._port.uart_defaults(line)
        board.uarts[uid] = self
        self._line = board.lines[uid]
        self._port.uart_init(self, pos[1:], kw, fresh)

    def init(self, *pos, **kw):
        self._port.uart_init(self, pos, kw, False)

    def deinit(self):
        self._board.uarts.pop(self._id, None)

    def any(self):
        return self._line.arrived()

    def _wait_rx(self, timeout_ms):
        """Block (advancing the clock) until a byte arrived or timeout_ms passed."""
        line = self._line
        clock = line.clock
        deadline = clock.us + self._port.uart_wait_us(timeout_ms)
        nxt = line.next_arrival()
        if nxt is not None and nxt <= deadline:
            clock.advance_to(nxt)
            return True
        clock.advance_to(deadline)
        return line.arrived() > 0

    def _read(self, n):
        line = self._line
        got = bytearray()
        timeout = self._timeout
        while len(got) < n:
            if not line.arrived():
                if not self._wait_rx(timeout):
                    break
            k = min(line.arrived(), n - len(got))
            got += line.take(k)
            timeout = self._timeout_char
        return bytes(got)

    def read(self, *pos):
        A.check_num(len(pos), 0, 0, 1, False)
        n = pos[0] if pos and pos[0] is not None else -1
        if n == 0:
            return b""
        if n < 0:
            line = self._line
            if not line.arrived() and not self._wait_rx(self._timeout):
                return None
            data = bytearray()
            while True:
                k = line.arrived()
                if k:
                    data += line.take(k)
                if not self._wait_rx(self._timeout_char):
                    break
            return bytes(data) if data else None
        data = self._read(n)
        return data if data else None

    def readinto(self, buf, *pos):
        A.check_num(len(pos), 0, 0, 1, False)
        n = len(buf) if not pos else min(pos[0], len(buf))
        if n <= 0:
            return 0
        data = self._read(n)
        if not data:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        line = self._line
        out = bytearray()
        while True:
            if not line.arrived() and not self._wait_rx(self._timeout if not out
                                                         else self._timeout_char):
                break
            b = line.take(1)
            out += b
            if b == b"\n":
                break
        return bytes(out) if out else None

    def write(self, buf):
        return self._port.uart_write(self, bytes(buf))

    def flush(self):
        line = self._line
        line.clock.advance_to(line.tx_end_us)
        line.settle()

    def txdone(self):
        line = self._line
        line.settle()
        return line.tx_done()

    def sendbreak(self):
        line = self._line
        self.flush()
        line.clock.advance_us(13000000 // line.baudrate)


# ---- WDT --------------------------------------------------------------------
class WdtCommon:
    """extmod/machine_wdt.c:40-82: WDT(id=0, timeout=5000); the only method is feed()."""

    _board = None
    _port = None

    def __init__(self, *pos, **kw):
        wid, timeout = A.parse(pos, kw, (("id", A.INT, 0), ("timeout", A.INT, 5000)))
        self._port.wdt_check(wid, timeout)
        board = self._board
        if board.wdt is None:
            board.wdt = WdtState(timeout, board.clock)
        else:
            board.wdt.timeout_ms = timeout
            board.wdt.feed()
        self._port.wdt_started(board)

    def feed(self):
        board = self._board
        if board.wdt is not None:
            board.wdt.feed()
            self._port.wdt_fed(board)


# ---- the module -------------------------------------------------------------
class Machine:
    """A twin `machine` module for one board. `world` is the test side."""

    def __init__(self, board):
        self._board = board

    def reset_cause(self):
        return self._board.cause

    def reset(self):
        board = self._board
        cause = board.port.RESET_CAUSE
        board.hard_reset(cause)
        hook = getattr(board, "reset_hook", None)
        if hook is not None:
            hook("hard", cause)
        raise BoardReset(cause)

    def soft_reset(self):
        board = self._board
        cause = board.soft_reset()
        hook = getattr(board, "reset_hook", None)
        if hook is not None:
            hook("soft", cause)
        raise BoardReset(cause, "soft")

    def disable_irq(self):
        board = self._board
        state = board.irq_state
        board.irq_state = 0
        return state

    def enable_irq(self, state=1):
        self._board.enable_irq(state)

    def idle(self):
        pass

    def unique_id(self):
        return self._board.port.UNIQUE_ID
