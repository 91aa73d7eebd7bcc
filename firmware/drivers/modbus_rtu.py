# Modbus RTU master over a UART, advanced by poll(now_ms) so a slow or silent
# slave never holds up the control loop. One transaction at a time:
#
#   start_request() -> SENDING (waits for 3.5 character times of line silence,
#   then transmits) -> WAITING (collects the reply into a preallocated buffer)
#   -> OK | EXCEPTION | TIMEOUT | CRC_ERROR | BAD_REPLY
#
# A timeout, a CRC error or a malformed reply is retried (`retries` re-sends)
# before it is reported; an exception response is an answer and is not.
# Reference: "MODBUS over Serial Line Specification and Implementation Guide
# V1.02" (modbus.org), sections 2.5.1 (RTU framing, t3.5) and 6.2.2 (CRC), and
# "MODBUS Application Protocol Specification V1.1b3" (function codes 03, 06,
# 16 and exception responses).
#
# The reply's length is known from its header (an exception is 5 bytes, a
# 03 reply 5 + byte count, a 06/16 echo 8), so the end of a frame is found by
# counting, not by timing the 1.5-character gaps, which a 10 ms poll slice
# cannot see.
from core.compat import const
from core.ticks import ticks_add, ticks_diff

# BAUDS, char_bits, crc16 and PARITY are this module's API too (vfd.py, the tests)
from drivers.rtu_line import BAUDS, PARITY, Sender, char_bits, char_us, crc16, gap_ms  # noqa: F401

READ_HOLDING = const(3)
WRITE_SINGLE = const(6)
WRITE_MULTIPLE = const(16)

IDLE = const(0)
SENDING = const(1)
WAITING = const(2)
OK = const(3)
EXCEPTION = const(4)
TIMEOUT = const(5)
CRC_ERROR = const(6)
BAD_REPLY = const(7)

MAX_READ = const(125)  # application protocol spec limit for function 03
MAX_WRITE = const(16)  # our cap for function 16 (the spec allows 123): keeps the tx buffer small
# Room for a few stray bytes before the reply: the transceiver can make one
# when DE releases (the bus floats until the bias takes it back).
_JUNK = const(4)
_RX_SIZE = const(5 + 2 * MAX_READ + _JUNK)
_TX_SIZE = const(9 + 2 * MAX_WRITE)
_SCRATCH = const(32)
# A flooded line must not keep one poll reading forever.
_MAX_CHUNKS = const(_RX_SIZE // _SCRATCH + 2)


class ModbusError(ValueError):
    """A request the master cannot build (programming or configuration error)."""


class ModbusMaster:
    """Non-blocking Modbus RTU master.

    uart: write(buf), any(), readinto(buf, n); flush() if it has one.
    de: optional RS-485 driver-enable Pin (DE and /RE tied together): driven
        high for the request and low once the last stop bit has left, so the
        transceiver listens for the reply.
    sleep_us: optional callable, used to wait out the frame when the UART has
        no flush(), and after flush() for the last character where the UART
        cannot say it has left the shift register (no txdone()).
    """

    def __init__(self, uart, de=None, baud: int = 19200, bits_per_char: int = 11,
                 timeout_ms: int = 200, retries: int = 2, sleep_us=None):
        if baud <= 0 or bits_per_char <= 0:
            raise ModbusError("baud and bits_per_char must be positive")
        self._uart = uart
        self._char_us = char_us(baud, bits_per_char)
        try:
            self._line = Sender(uart, de, self._char_us, sleep_us)
        except ValueError as exc:
            raise ModbusError(str(exc))
        self._timeout_ms = timeout_ms
        self._retries = retries
        self._gap_ms = gap_ms(self._char_us, baud)

        self._tx = bytearray(_TX_SIZE)
        view = memoryview(self._tx)
        # One view per frame length, made now, so a send allocates nothing.
        self._tx_views = [view[:n] for n in range(_TX_SIZE + 1)]
        self._tx_len = 0
        self._rx = bytearray(_RX_SIZE)
        self._rx_len = 0
        self._overflow = False
        self._scratch = bytearray(_SCRATCH)

        self._state = IDLE
        self._slave = 0
        self._function = 0
        self._count = 0
        self._attempts = 0
        self._wait_ms = 0
        self._deadline = 0
        self._quiet_ms = 0
        self._heard = False  # nothing seen on the line yet: no silence to wait for
        self.exception_code = 0
        # Diagnostics for the console; counts since boot.
        self.frames_sent = 0
        self.timeouts = 0
        self.crc_errors = 0
        self.bad_replies = 0
        self.exceptions = 0

    @property
    def state(self) -> int:
        return self._state

    @property
    def busy(self) -> bool:
        return self._state == SENDING or self._state == WAITING

    @property
    def gap_ms(self) -> int:
        return self._gap_ms

    # ---- requests ---------------------------------------------------------
    def read_holding(self, slave: int, address: int, count: int):
        self.start_request(slave, READ_HOLDING, address, count)

    def write_single(self, slave: int, address: int, value: int):
        self.start_request(slave, WRITE_SINGLE, address, value)

    def write_multiple(self, slave: int, address: int, values, count: int = -1):
        if count < 0:
            count = len(values)
        self.start_request(slave, WRITE_MULTIPLE, address, count, values)

    def start_request(self, slave: int, function: int, address: int, value: int, values=None):
        """Build the request frame; poll() sends it. `value` is the register
        count for 03 and 16 (the registers come from `values`) and the
        register value for 06."""
        if self._state == SENDING or self._state == WAITING:
            raise ModbusError("a transaction is in progress")
        if not 1 <= slave <= 247:
            raise ModbusError("slave address %r not in 1..247" % (slave,))
        if not 0 <= address <= 0xFFFF:
            raise ModbusError("register address %r not in 0..65535" % (address,))
        tx = self._tx
        tx[0] = slave
        tx[1] = function
        tx[2] = address >> 8
        tx[3] = address & 0xFF
        if function == READ_HOLDING:
            if not 1 <= value <= MAX_READ:
                raise ModbusError("read count %r not in 1..%d" % (value, MAX_READ))
            n = 6
            reply = 5 + 2 * value
        elif function == WRITE_SINGLE:
            if not 0 <= value <= 0xFFFF:
                raise ModbusError("register value %r not in 0..65535" % (value,))
            n = 6
            reply = 8
        elif function == WRITE_MULTIPLE:
            if values is None or not 1 <= value <= MAX_WRITE:
                raise ModbusError("write count %r not in 1..%d" % (value, MAX_WRITE))
            tx[6] = 2 * value
            n = 7
            for i in range(value):
                v = values[i]
                if not 0 <= v <= 0xFFFF:
                    raise ModbusError("register value %r not in 0..65535" % (v,))
                tx[n] = v >> 8
                tx[n + 1] = v & 0xFF
                n += 2
            reply = 8
        else:
            raise ModbusError("function %r not supported" % (function,))
        tx[4] = value >> 8
        tx[5] = value & 0xFF
        crc = crc16(tx, n)
        tx[n] = crc & 0xFF
        tx[n + 1] = crc >> 8
        n += 2
        self._tx_len = n
        self._slave = slave
        self._function = function
        self._count = value
        # Both frames' wire time plus the slave's own reply time.
        self._wait_ms = ((n + reply) * self._char_us + 999) // 1000 + self._timeout_ms
        self._attempts = 0
        self.exception_code = 0
        self._state = SENDING

    # ---- results ----------------------------------------------------------
    def register(self, i: int) -> int:
        """Register i (0-based) of the last OK read reply, 0..65535."""
        return (self._rx[3 + 2 * i] << 8) | self._rx[4 + 2 * i]

    # ---- engine -----------------------------------------------------------
    def poll(self, now_ms: int) -> int:
        """Advance the transaction; returns the state (a result stays until
        the next start_request)."""
        state = self._state
        if state == SENDING:
            self._drain(now_ms)
            if self._heard and ticks_diff(now_ms, self._quiet_ms) < self._gap_ms:
                return state
            self._transmit(now_ms)
        elif state == WAITING:
            self._receive(now_ms)
            if self._state == WAITING and ticks_diff(now_ms, self._deadline) >= 0:
                self.timeouts += 1
                self._failed(TIMEOUT)
        return self._state

    def _drain(self, now_ms: int):
        # Late replies to an earlier attempt or noise: discard, and restart the
        # silence so the next request cannot collide with their tail.
        uart = self._uart
        for _ in range(_MAX_CHUNKS):
            n = uart.any()
            if not n:
                return
            if n > _SCRATCH:
                n = _SCRATCH
            if not uart.readinto(self._scratch, n):
                return
            self._quiet_ms = now_ms
            self._heard = True

    def _transmit(self, now_ms: int):
        self._line.send(self._tx_views[self._tx_len], self._tx_len)
        self._attempts += 1
        self.frames_sent += 1
        self._rx_len = 0
        self._overflow = False
        self._deadline = ticks_add(now_ms, self._wait_ms)
        self._state = WAITING

    def release(self):
        """Fail-safe: abandon any transaction and release the bus (DE low)."""
        self._state = IDLE
        self._line.release()

    def send_now(self, slave: int, function: int, address: int, value: int, values=None):
        """Fail-safe: transmit one request at once and release DE, waiting for
        no reply (whatever transaction was running is abandoned)."""
        self._state = IDLE
        self.start_request(slave, function, address, value, values)
        try:
            self._line.send(self._tx_views[self._tx_len], self._tx_len)
        finally:
            self._state = IDLE

    def _receive(self, now_ms: int):
        uart = self._uart
        rx = self._rx
        scratch = self._scratch
        pos = self._rx_len
        for _ in range(_MAX_CHUNKS):
            n = uart.any()
            if not n:
                break
            if n > _SCRATCH:
                n = _SCRATCH
            got = uart.readinto(scratch, n)
            if not got:
                break
            self._quiet_ms = now_ms
            self._heard = True
            for i in range(got):
                if pos < _RX_SIZE:
                    rx[pos] = scratch[i]
                    pos += 1
                else:
                    self._overflow = True
        self._rx_len = pos
        if pos:
            self._check()

    def _check(self):
        rx = self._rx
        if self._overflow:
            self._bad()
            return
        # Skip stray leading bytes (a glitch when DE released, line noise)
        # up to the first place the expected slave and function start; the
        # CRC then decides whether that is the reply.
        pos = self._rx_len
        skip = 0
        want = self._function
        while skip < pos:
            if rx[skip] == self._slave and (skip + 1 == pos or rx[skip + 1] == want
                                            or rx[skip + 1] == want | 0x80):
                break
            skip += 1
        if skip:
            if skip > _JUNK:
                self._bad()
                return
            for i in range(skip, pos):
                rx[i - skip] = rx[i]
            pos -= skip
            self._rx_len = pos
        if pos < 2:
            return
        function = rx[1]
        if function == self._function | 0x80:
            need = 5
        elif function != self._function:
            self._bad()
            return
        elif function == READ_HOLDING:
            if pos < 3:
                return
            if rx[2] != 2 * self._count:
                self._bad()
                return
            need = 5 + rx[2]
        else:
            need = 8
        if pos < need:
            return
        if crc16(rx, need - 2) != rx[need - 2] | (rx[need - 1] << 8):
            self.crc_errors += 1
            self._failed(CRC_ERROR)
            return
        if function & 0x80:
            self.exception_code = rx[2]
            self.exceptions += 1
            self._state = EXCEPTION
            return
        if function != READ_HOLDING:
            # 06 and 16 echo address and value/count: anything else is not our answer.
            tx = self._tx
            if rx[2] != tx[2] or rx[3] != tx[3] or rx[4] != tx[4] or rx[5] != tx[5]:
                self._bad()
                return
        self._state = OK

    def _bad(self):
        self.bad_replies += 1
        self._failed(BAD_REPLY)

    def _failed(self, result: int):
        if self._attempts <= self._retries:
            self._state = SENDING
        else:
            self._state = result
