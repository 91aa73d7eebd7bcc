# What the Modbus RTU master (modbus_rtu.py, toward a VFD) and slave
# (modbus_slave.py, toward a BMS) share on an RS-485 line: the frame CRC, the
# character time, and sending a frame with the transceiver's driver enable.
# Reference: "MODBUS over Serial Line Specification and Implementation Guide
# V1.02" (modbus.org), sections 2.5.1 (RTU framing, t3.5) and 6.2.2 (CRC).
from array import array


def _make_table():
    table = array("H", [0] * 256)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        table[i] = c
    return table


# Table-driven: one lookup per byte instead of eight shift/xor steps, which
# matters in bytecode (a 255-byte frame is checked inside one poll).
_TABLE = _make_table()


def crc16(buf, n: int = -1) -> int:
    """CRC-16/MODBUS (reflected poly 0xA001, init 0xFFFF) of buf[:n]; the low
    byte goes on the wire first."""
    if n < 0:
        n = len(buf)
    crc = 0xFFFF
    table = _TABLE
    for i in range(n):
        crc = (crc >> 8) ^ table[(crc ^ buf[i]) & 0xFF]
    return crc


BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)  # the standard rates
# Parity by name -> UART.init(parity=...): 0 even, 1 odd, None none (machine.UART).
PARITY = {"even": 0, "odd": 1, "none": None}


def char_bits(parity: bool, stop_bits: int) -> int:
    """Bits per character on the wire: start + 8 data + parity + stop."""
    return 9 + (1 if parity else 0) + stop_bits


def char_us(baud: int, bits_per_char: int) -> int:
    """One character's time on the wire in microseconds, rounded up."""
    return (bits_per_char * 1000000 + baud - 1) // baud


def gap_ms(char_time_us: int, baud: int) -> int:
    """The t3.5 silence that ends a frame, in whole milliseconds of a poll clock
    (above 19200 baud it is fixed at 1750 us, spec 2.5.1.1). now_ms only says
    which millisecond a byte was seen in, so one more millisecond guarantees the
    whole silence really passed."""
    t35_us = 1750 if baud > 19200 else (7 * char_time_us + 1) // 2
    return (t35_us + 999) // 1000 + 1


class Sender:
    """Writes a frame and turns the transceiver around. de: optional RS-485
    driver-enable Pin (DE and /RE tied together), high for the frame and low
    once its last stop bit has left, so the transceiver listens again.

    UART.txdone() is True once the last stop bit has left (both ports at
    v1.27); RP2's flush() waits for the shift register only from v1.24, so DE
    is released on txdone(), or one character time after flush(), or after the
    whole frame's time where the UART has no flush()."""

    def __init__(self, uart, de, char_time_us: int, sleep_us=None):
        flush = getattr(uart, "flush", None)
        if de is not None and flush is None and sleep_us is None:
            # Dropping DE early cuts off the frame's last bytes; late, it
            # talks over the reply. Without flush() the frame time must be waited.
            raise ValueError("a DE pin needs uart.flush() or a sleep_us callable")
        self._uart = uart
        self._de = de
        self._flush = flush
        self._txdone = getattr(uart, "txdone", None)
        self._sleep_us = sleep_us
        self._char_us = char_time_us
        self.sending = False  # a frame sent with wait=False is still on the wire (DE high)
        if de is not None:
            de.value(0)

    def send(self, frame, n: int, wait: bool = True):
        """frame: a buffer of exactly the n bytes to send (a preallocated view).
        wait=False (a slave's reply): where the UART can say when its last stop
        bit has left (txdone), return at once and let poll() release DE then, so
        the frame's wire time (10 ms for 19 bytes at 19200 baud) never holds up
        a slice; DE stays high at most one poll longer than the frame."""
        de = self._de
        if not wait and de is not None and self._txdone is not None:
            de.value(1)
            try:
                self._uart.write(frame)
            except BaseException:  # noqa: B036 -- Ctrl-C or an error: the bus is released
                de.value(0)
                raise
            self.sending = True
            return
        try:
            if de is not None:
                de.value(1)
            self._uart.write(frame)
            if de is not None:
                # The one wait on the line: the frame must leave the shift
                # register before the transceiver is turned around (8 bytes at
                # 19200 baud: 4.6 ms). See docs/drivers.md: RS-485 direction control.
                self._wait_sent(n)
        finally:
            if de is not None:
                de.value(0)

    def poll(self):
        """After send(wait=False): DE goes low once the frame has left."""
        txdone = self._txdone
        de = self._de
        if self.sending and txdone is not None and de is not None and txdone():
            self.sending = False
            de.value(0)

    def release(self):
        self.sending = False
        if self._de is not None:
            self._de.value(0)

    def _wait_sent(self, n: int):
        flush = self._flush
        sleep_us = self._sleep_us
        if flush is None:
            if sleep_us is not None:
                sleep_us(n * self._char_us)
            return
        flush()
        txdone = self._txdone
        if txdone is not None:
            # At most the last character is still shifting out; a UART that
            # never reports done must not hang the loop (a few ms at most).
            for _ in range(200):
                if txdone():
                    return
                if sleep_us is not None:
                    sleep_us(self._char_us // 8 + 1)
            return
        if sleep_us is not None:
            sleep_us(self._char_us)
