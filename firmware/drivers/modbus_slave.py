# Modbus RTU slave (server) over a UART, for a building management system
# (docs/bms.md). The driver only speaks the protocol: poll(now_ms) collects a
# request into a preallocated buffer and, once it is complete, addressed to
# this slave and its CRC is right, holds it as `function`/`address`/`count`
# (and `values` for a write). The application then answers it -- fills `regs`
# for a read, or checks and applies a write -- and calls reply(exception): the
# answer goes out at once, without waiting for it to leave (the next poll
# releases DE: rtu_line.Sender). Nothing here waits for the master; a half frame is
# dropped after a silence (t3.5), as the serial line spec says, and a frame with
# a bad CRC or for another slave is ignored without a word.
# Reference: "MODBUS over Serial Line Specification and Implementation Guide
# V1.02" sections 2.4 (slave behaviour), 2.5.1 (RTU framing); "MODBUS
# Application Protocol Specification V1.1b3" 6.3, 6.4, 6.6, 6.12 (functions
# 03, 04, 06, 16) and 7 (exception responses).
from array import array

from core.compat import const
from core.config import ConfigError
from core.ticks import ticks_diff
from drivers.rtu_line import BAUDS, PARITY, Sender, char_bits, char_us, crc16, gap_ms

READ_HOLDING = const(3)
READ_INPUT = const(4)
WRITE_SINGLE = const(6)
WRITE_MULTIPLE = const(16)
ILLEGAL_FUNCTION = const(1)
ILLEGAL_ADDRESS = const(2)
ILLEGAL_VALUE = const(3)
DEVICE_FAILURE = const(4)

MAX_READ = const(32)  # registers per read: the map is small (docs/bms.md)
MAX_WRITE = const(16)
_RX_SIZE = const(9 + 2 * MAX_WRITE)  # the longest request we take: 16 with MAX_WRITE
_TX_SIZE = const(5 + 2 * MAX_READ)
_SCRATCH = const(16)
_JOIN_MS = const(25)

PARAMS = (
    ("address", "", 1, 247, 1, "this slave's Modbus address"),
    ("baud", "baud", 1200, 115200, 19200, "line speed"),
    ("parity", ("even", "none", "odd"), 0, 0, "even", "character parity"),
    ("stop_bits", "", 1, 2, 1, "stop bits per character"),
)


class ModbusSlave:
    """uart: write(buf), any(), readinto(buf, n), flush()/txdone() if it has
    them; de: optional RS-485 driver-enable pin; params: PARAMS above."""

    def __init__(self, uart, params: dict, de=None, sleep_us=None):
        baud = params["baud"]
        if baud not in BAUDS:
            raise ConfigError("baud", "%r is not a standard rate (%s)"
                              % (baud, ", ".join(str(b) for b in BAUDS)))
        self._uart = uart
        self.unit = params["address"]
        uart.init(baudrate=baud, bits=8, parity=PARITY[params["parity"]],
                  stop=params["stop_bits"])
        self._char_us = char_us(baud, char_bits(params["parity"] != "none", params["stop_bits"]))
        # The silence that ends a frame: t3.5, but never under _JOIN_MS. A 10 ms
        # poll cannot see the spec's 1.75-3 ms gaps, and a UART driver hands
        # over received bytes in bursts (ESP32: on its RX FIFO timeout), so the
        # parts of one frame can come a poll apart; a master's reply timeout
        # (100 ms and more) leaves room to wait for them.
        gap = gap_ms(self._char_us, baud)
        self._gap_ms = gap if gap > _JOIN_MS else _JOIN_MS
        self._line = Sender(uart, de, self._char_us, sleep_us)
        self._rx = bytearray(_RX_SIZE)
        self._n = 0
        self._overflow = False
        self._heard_ms = 0
        self._scratch = bytearray(_SCRATCH)
        self._tx = bytearray(_TX_SIZE)
        view = memoryview(self._tx)
        self._tx_views = [view[:n] for n in range(_TX_SIZE + 1)]
        # The request held for the application (function 0: none).
        self.function = 0
        self.address = 0
        self.count = 0
        self.values = array("H", [0] * MAX_WRITE)
        self.regs = array("H", [0] * MAX_READ)  # a read's answer, filled by the application
        self._broadcast = False
        # Diagnostics since boot (status, docs/bms.md).
        self.requests = 0
        self.crc_errors = 0
        self.exceptions = 0

    # ---- receiving --------------------------------------------------------
    def poll(self, now_ms: int):
        line = self._line
        if line.sending:
            line.poll()  # the reply is on the wire: DE goes low when it has left
            if line.sending:
                return
        if self.function:
            return  # a request is waiting for its answer: the line keeps its bytes
        uart = self._uart
        got = False
        for _ in range(_RX_SIZE // _SCRATCH + 2):  # a flooded line cannot hold the poll
            n = uart.any()
            if not n:
                break
            # Never more than is there: a read of more waits for its timeout.
            n = uart.readinto(self._scratch, n if n < _SCRATCH else _SCRATCH)
            if not n:
                break
            got = True
            self._take(n)
        if got:
            self._heard_ms = now_ms
            if not self._overflow:
                self._parse()
        elif self._n or self._overflow:
            if ticks_diff(now_ms, self._heard_ms) >= self._gap_ms:
                self._at_gap()  # a silence ends the frame

    def _take(self, n: int):
        rx = self._rx
        at = self._n
        for i in range(n):
            if at >= _RX_SIZE:
                self._overflow = True  # longer than any request we take: dropped at the gap
                break
            rx[at] = self._scratch[i]
            at += 1
        self._n = at

    def _drop(self):
        self._n = 0
        self._overflow = False

    def _parse(self):
        rx = self._rx
        n = self._n
        if n < 8:
            return  # every request we take is at least 8 bytes
        function = rx[1]
        need = 9 + rx[6] if function == WRITE_MULTIPLE else 8
        if need > _RX_SIZE:
            self._overflow = True  # a write longer than we take: dropped at the gap
            return
        if n < need:
            return
        if crc16(rx, need - 2) != rx[need - 2] | (rx[need - 1] << 8):
            self.crc_errors += 1
            self._overflow = True  # the rest of this frame is dropped at the silence
            return
        self._drop()
        self._held(function, need)

    def _at_gap(self):
        """A silence after bytes that made no request we take: a frame of a
        function we do not have, whole and for us, is answered ILLEGAL_FUNCTION;
        anything else is dropped."""
        n = self._n
        overflow = self._overflow
        self._drop()
        rx = self._rx
        if overflow or n < 4 or crc16(rx, n - 2) != rx[n - 2] | (rx[n - 1] << 8):
            return
        if rx[1] in (READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE):
            return  # one of ours but cut short: the master retries
        self._held(rx[1], n)

    def _held(self, function: int, n: int):
        rx = self._rx
        unit = rx[0]
        if unit != self.unit and unit != 0:
            return  # another slave's request: not ours to answer
        write = function == WRITE_SINGLE or function == WRITE_MULTIPLE
        if unit == 0 and not write:
            return  # a broadcast is only ever a write (serial line spec 2.1)
        self._broadcast = unit == 0
        self.requests += 1
        self.function = function
        if n < 8:
            self.reply(ILLEGAL_FUNCTION)
            return
        self.address = (rx[2] << 8) | rx[3]
        value = (rx[4] << 8) | rx[5]
        if function == WRITE_SINGLE:
            self.count = 1
            self.values[0] = value
        elif function == WRITE_MULTIPLE:
            self.count = value
            if value < 1 or value > MAX_WRITE or rx[6] != 2 * value:
                self.reply(ILLEGAL_VALUE)
                return
            for i in range(value):
                self.values[i] = (rx[7 + 2 * i] << 8) | rx[8 + 2 * i]
        elif function == READ_HOLDING or function == READ_INPUT:
            self.count = value
            if value < 1 or value > MAX_READ:
                self.reply(ILLEGAL_VALUE)
        else:
            self.reply(ILLEGAL_FUNCTION)

    # ---- answering ----------------------------------------------------------
    def reply(self, exception: int = 0):
        """Answer the held request: `regs[:count]` for a read, the echo for a
        write, or the exception code given. A broadcast gets no answer."""
        function = self.function
        self.function = 0
        if self._broadcast:
            return
        tx = self._tx
        tx[0] = self.unit
        if exception:
            self.exceptions += 1
            tx[1] = function | 0x80
            tx[2] = exception
            n = 3
        elif function == READ_HOLDING or function == READ_INPUT:
            tx[1] = function
            tx[2] = 2 * self.count
            n = 3
            regs = self.regs
            for i in range(self.count):
                v = regs[i]
                tx[n] = v >> 8
                tx[n + 1] = v & 0xFF
                n += 2
        else:
            tx[1] = function
            a = self.address
            tx[2] = a >> 8
            tx[3] = a & 0xFF
            v = self.values[0] if function == WRITE_SINGLE else self.count
            tx[4] = v >> 8
            tx[5] = v & 0xFF
            n = 6
        crc = crc16(tx, n)
        tx[n] = crc & 0xFF
        tx[n + 1] = crc >> 8
        n += 2
        self._line.send(self._tx_views[n], n, False)

    def safe(self):
        """Fail-safe: release the bus (DE low)."""
        self._line.release()
