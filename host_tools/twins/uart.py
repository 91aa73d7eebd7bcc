# The wire under a twin UART: bytes take their character time at the line's
# baud rate, the TX path holds a bounded number of bytes (driver ring buffer
# plus hardware FIFO), and the far end (UartEnd, from World.uart(id)) sees
# bytes only once they have left the shift register. Port-specific limits
# (buffer sizes, timeouts) come from the port module; see docs/machine-twins.md.


def char_bits(bits, parity, stop):
    return 1 + bits + (0 if parity is None else 1) + stop


class UartLine:
    """One UART's timing state (lives on the Board; survives the UART object)."""

    def __init__(self, clock, uart_id):
        self.clock = clock
        self.id = uart_id
        self.baudrate = 115200
        self.bits = 8
        self.parity = None
        self.stop = 1
        self.tx_capacity = 256 + 128
        self.tx_end_us = 0  # when the last queued byte leaves the shift register
        self.tx_chunks = []  # [start_us, bytes] not yet fully on the far end
        self.rx = []  # [(arrive_us, byte)] in arrival order
        self.end = UartEnd(self)
        self.frame = bytearray()  # bytes sent since TX last went idle
        # A byte stream to the world outside the twins (the virtual board's
        # pseudo-terminal for this UART): send(bytes) and receive() -> bytes.
        self.bridge = None

    def char_us(self):
        return (char_bits(self.bits, self.parity, self.stop) * 1000000 + self.baudrate - 1) \
            // self.baudrate

    # ---- TX ---------------------------------------------------------------
    def queued_at(self, now):
        """Bytes written but not yet out of the shift register at `now`."""
        if self.tx_end_us <= now:
            return 0
        c = self.char_us()
        return (self.tx_end_us - now + c - 1) // c

    def write(self, data):
        """Queue data; returns the time (us) the caller is blocked until."""
        now = self.clock.us
        self.settle(now)
        c = self.char_us()
        start = self.tx_end_us if self.tx_end_us > now else now
        self.tx_chunks.append([start, bytes(data)])
        self.tx_end_us = start + len(data) * c
        # The writer waits while more than the TX path holds is outstanding.
        free_at = self.tx_end_us - self.tx_capacity * c
        return free_at if free_at > now else now

    def settle(self, now=None):
        if now is None:
            now = self.clock.us
        c = self.char_us()
        end = self.end
        while self.tx_chunks:
            start, data = self.tx_chunks[0]
            done = (now - start) // c if now > start else 0
            if done <= 0:
                break
            out = data[:done]
            if self.bridge is not None:
                self.bridge.send(out)  # on the wire: the far end is outside
            else:
                end.tx += out
                self.frame += out
            if done < len(data):
                self.tx_chunks[0] = [start + done * c, data[done:]]
                break
            self.tx_chunks.pop(0)
        if not self.tx_chunks and self.frame and now >= self.tx_end_us:
            frame = bytes(self.frame)
            self.frame = bytearray()
            if end.peer is not None:
                reply = end.peer.respond(frame)
                if reply:
                    end.feed(reply, start_us=self.tx_end_us)

    def tx_done(self, now=None):
        if now is None:
            now = self.clock.us
        return self.tx_end_us <= now

    # ---- RX ---------------------------------------------------------------
    def arrived(self, now=None):
        if now is None:
            now = self.clock.us
        self.settle(now)
        if self.bridge is not None:
            data = self.bridge.receive()
            if data:
                self.end.feed(data, start_us=now - len(data) * self.char_us())  # here by now
        n = 0
        for t, _ in self.rx:
            if t > now:
                break
            n += 1
        return n

    def next_arrival(self):
        return self.rx[0][0] if self.rx else None

    def take(self, n):
        out = bytes(b for _, b in self.rx[:n])
        self.rx = self.rx[n:]
        return out


class UartEnd:
    """The far end of a UART (World.uart(id)): what the board sent, what it will receive.

    tx    bytes that have left the board's shift register, in order
    feed  bytes arriving at the board's RX pin, one character time each at the
          line's baud rate from `start_us` (default now); paced=False: all at once
    peer  an object with respond(frame) -> bytes: called when the board's TX goes
          idle after a frame, its answer arrives right after the frame
    """

    def __init__(self, line):
        self._line = line
        self.tx = bytearray()
        self.peer = None

    @property
    def baudrate(self):
        return self._line.baudrate

    @property
    def format(self):
        line = self._line
        return (line.bits, line.parity, line.stop)

    def feed(self, data, start_us=None, paced=True):
        line = self._line
        now = line.clock.us
        t = now if start_us is None else start_us
        if line.rx and line.rx[-1][0] > t:
            t = line.rx[-1][0]
        c = line.char_us() if paced else 0
        for b in bytes(data):
            t += c
            line.rx.append((t, b))

    def pending(self):
        """Bytes the board has written that are still in its TX path."""
        line = self._line
        line.settle()
        return line.queued_at(line.clock.us)

    def take_tx(self):
        """The bytes sent so far, clearing the record."""
        self._line.settle()
        out = bytes(self.tx)
        self.tx = bytearray()
        return out
