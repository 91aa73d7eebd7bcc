# Peripherals for a board profile on the virtual board: the host has no pins,
# so each behaves like its hardware with nothing wired to it. A 1-Wire bus
# gets no presence pulse, an ADC reads 0, a UART never answers, SPI reads
# zeros, an input pin reads its pull-up. The drivers then report the faults of unwired hardware,
# as a freshly flashed board on the bench would (docs/drivers.md).
import time

from hal_sim import virtual_interrupt, virtual_reset


class SimPin:
    IRQ_FALLING = 4  # the values of the ESP32 and RP2 ports
    IRQ_RISING = 8

    def __init__(self, level: int = 1):
        self.level = level

    def value(self, x=None):
        if x is None:
            return self.level
        self.level = 1 if x else 0
        return None

    def irq(self, handler=None, trigger=0, hard=False):
        pass


class SimOneWire:
    def reset(self, required=False) -> bool:
        return False  # no presence pulse

    def readbit(self) -> int:
        return 1

    def readbyte(self) -> int:
        return 0xFF

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = 0xFF

    def writebit(self, value):
        pass

    def writebyte(self, value):
        pass

    def write(self, buf):
        pass

    def select_rom(self, rom):
        pass

    def scan(self):
        return []

    def crc8(self, data) -> int:
        crc = 0
        for byte in data:
            for _ in range(8):
                mix = (crc ^ byte) & 1
                crc >>= 1
                if mix:
                    crc ^= 0x8C
                byte >>= 1
        return crc


class SimADC:
    def read_u16(self) -> int:
        return 0


class SimPWM:
    def __init__(self):
        self._duty = 0
        self._freq = 1000

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        self._duty = value
        return None

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        return None


class SimDAC:
    def write(self, value):
        pass


class SimUART:
    def init(self, *args, **kwargs):
        pass

    def write(self, buf) -> int:
        return len(buf)

    def any(self) -> int:
        return 0

    def read(self, n=-1):
        return None

    def readinto(self, buf, n=-1):
        return None

    def flush(self):
        pass


class SimSPI:
    def write(self, buf):
        pass

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            buf[i] = 0  # MISO with no chip on it

    def write_readinto(self, wbuf, rbuf):
        self.readinto(rbuf)


class SimPCNT:
    def value(self, value=None) -> int:
        return 0  # no pulses

    def start(self):
        pass


class SimWDT:
    def feed(self):
        pass


class SimIO:
    """The IO factory BoardHal builds its drivers from (hal_board.MachineIO on a board)."""

    auto_gc = False  # the host MicroPython (docs/micropython-host.md)

    def ticks_us(self):
        return time.ticks_us()

    def pin_in(self, pin: int, pull_up: bool = True):
        return SimPin(1 if pull_up else 0)

    def pin_out(self, pin: int, value: int = 0):
        return SimPin(value)

    def onewire(self, pin: int):
        return SimOneWire()

    def adc(self, pin: int):
        return SimADC()

    def pwm(self, pin: int, freq_hz: int):
        return SimPWM()

    def dac(self, pin: int):
        return SimDAC()

    def uart(self, uart_id: int, tx: int, rx: int):
        return SimUART()

    def spi(self, spi_id: int, sck: int, mosi: int, miso: int):
        return SimSPI()

    def flow_pcnt(self, pin: int, params: dict):
        return SimPCNT()

    def wdt(self, timeout_ms: int):
        return SimWDT()

    def watchdog_reset(self) -> bool:
        return False

    def reset(self):
        virtual_reset()

    def interrupt(self):
        virtual_interrupt()
