# machine.SPI twin (shared part) and the far end of an SPI bus.
# extmod/machine_spi.c: init, deinit, read, readinto, write, write_readinto.
from . import args as A


class SpiEnd:
    """World.spi(id): the devices on an SPI bus.

    attach(device, cs=pin_id): device.exchange(byte) -> byte for every byte
    clocked while its chip-select pin is low; device.select()/deselect() (if
    it has them) at the CS edges. `device = obj` attaches one device with no
    CS (always selected). With nobody selected, MISO reads `idle_byte`.
    polarity/phase: the SPI mode the board's SPI(...)/init() set (0, 0 by default).
    """

    def __init__(self):
        self.devices = []  # (device, cs pin id or None)
        self.idle_byte = 0x00  # MISO with no chip driving it
        self.written = bytearray()
        self.polarity = 0  # the clock mode the board last set (a device checks it)
        self.phase = 0
        self._board = None

    @property
    def device(self):
        return self.devices[0][0] if self.devices else None

    @device.setter
    def device(self, dev):
        self.devices = [(dev, None)]

    def attach(self, device, cs=None):
        self.devices.append((device, cs))
        if cs is not None and self._board is not None:
            self._watch(device, cs)

    def _bind(self, board):
        if self._board is None:
            self._board = board
            for dev, cs in self.devices:
                if cs is not None:
                    self._watch(dev, cs)

    def _watch(self, dev, cs):
        def on_cs(level, now_us):
            fn = getattr(dev, "deselect" if level else "select", None)
            if fn is not None:
                fn()

        self._board.pin(cs).watchers.append(on_cs)

    def exchange(self, byte):
        self.written.append(byte)
        out = 0xFF
        driven = False
        for dev, cs in self.devices:
            if cs is not None and self._board.level(cs):
                continue
            out &= dev.exchange(byte)
            driven = True
        return out if driven else self.idle_byte


def spi_end(board, spi_id):
    end = board.spi_ends.get(spi_id)
    if end is None:
        end = SpiEnd()
        board.spi_ends[spi_id] = end
    end._bind(board)
    return end


class SpiCommon:
    _board = None
    _port = None

    def __init__(self, *pos, **kw):
        self._port.spi_init(self, pos, kw, True)

    def init(self, *pos, **kw):
        self._port.spi_init(self, pos, kw, False)

    def deinit(self):
        pass

    def _xfer(self, wbuf, rbuf):
        end = spi_end(self._board, self._id)
        n = len(wbuf) if wbuf is not None else len(rbuf)
        # bytes take 8 clocks each at the bus rate; the call blocks until done
        self._board.clock.advance_us((n * 8 * 1000000 + self._baud - 1) // self._baud)
        for i in range(n):
            b = end.exchange(wbuf[i] if wbuf is not None else self._fill)
            if rbuf is not None:
                rbuf[i] = b

    def read(self, nbytes, write=0x00):
        buf = bytearray(A.get_int(nbytes))
        self._fill = write
        self._xfer(None, buf)
        return bytes(buf)

    def readinto(self, buf, write=0x00):
        self._fill = write
        self._xfer(None, buf)

    def write(self, buf):
        self._xfer(buf, None)

    def write_readinto(self, wbuf, rbuf):
        if len(wbuf) != len(rbuf):
            raise ValueError("buffers must be the same length")
        self._xfer(wbuf, rbuf)
