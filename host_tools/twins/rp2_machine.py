# Twin of MicroPython v1.27.0's `machine` on RP2 (RP2040, Raspberry Pi Pico).
# Sources: ports/rp2/machine_pin.c, machine_adc.c, machine_uart.c, machine_wdt.c,
# modmachine.c, mphalport.h, docs/rp2/quickref.rst (docs/machine-twins.md).
from . import args as A
from .board import MODE_IN, MODE_OD, MODE_OUT
from .common import IrqObj, PinCommon, UartCommon, WdtCommon, configure_pin

NAME = "rp2"

# modmachine.c:51-52, :59-60: the only reset causes the rp2 port defines
PWRON = 1
WDT_CAUSE = 3
# machine.reset() is watchdog_reboot() (modmachine.c:68-70), and reset_cause()
# asks watchdog_caused_reboot() (:75-83): after machine.reset() it reads WDT_RESET.
RESET_CAUSE = WDT_CAUSE
UNIQUE_ID = b"\xe6\x61\x41\x04\x03\x2b\x57\x2c"  # 8 bytes: the flash chip's id


def cause_after_soft_reset(cause):
    return cause  # reset_cause() reads the hardware: a soft reset does not change it


def boot_cause(event, hw_event):
    """reset_cause() after a boot of the virtual board (see esp32_machine.boot_cause):
    machine.reset() and the watchdog both read WDT_RESET; a soft reset keeps the
    cause of the last hardware reset."""
    if event == "soft":
        event = hw_event
    return WDT_CAUSE if event in ("reset", "wdt") else PWRON


NUM_GPIOS = 30  # NUM_BANK0_GPIOS on the RP2040: GPIO 0-29 (machine_pin.c:182-190)
IRQ_RISING_FLAG = 8  # GPIO_IRQ_EDGE_RISE
IRQ_FALLING_FLAG = 4  # GPIO_IRQ_EDGE_FALL
GPIO_FUNC_SIO = 5
_NAMED = {"LED": 25}
for _i in range(29):
    _NAMED["GP%d" % _i] = _i


ALL_PINS = tuple(range(NUM_GPIOS))  # twins.preload: the static pin table's entries


def find_pin(board, pin):
    # machine_pin.c:164-191
    if isinstance(pin, PinCommon):
        return pin._id
    if isinstance(pin, str):
        if pin in _NAMED:
            return _NAMED[pin]
        raise ValueError('unknown named pin "%s"' % pin)
    if isinstance(pin, int) and not isinstance(pin, bool) and 0 <= pin < NUM_GPIOS:
        return pin
    raise ValueError("invalid pin")


def effective_pull(s):
    return (s.pull_up, s.pull_down)


_PIN_ARGS = (("mode", 0, None), ("pull", 0, None), ("value", A.KW_ONLY, None),
             ("alt", A.KW_ONLY | A.INT, GPIO_FUNC_SIO))


def pin_init(board, pid, pos, kw):
    # machine_pin.c:240-309; pulls are set unconditionally: None means no pull (:300-307)
    mode, pull, value, alt = A.parse(pos, kw, _PIN_ARGS)
    new_mode = None
    if mode is not None:
        mode = A.get_int(mode)
        if mode == Pin.IN:
            new_mode = MODE_IN
        elif mode == Pin.OUT:
            new_mode = MODE_OUT
        elif mode == Pin.OPEN_DRAIN:
            new_mode = MODE_OD
            if value is None:
                value = 1  # mp_hal_pin_open_drain_with_value(value == -1 ? 1 : value)
        else:
            if alt not in (1, 2, 3, 4, 5, 6, 7):
                raise ValueError("invalid pin af: %d" % alt)
            new_mode = "alt"
    p = 0 if pull is None else A.get_int(pull)
    configure_pin(board, pid, new_mode, (p & Pin.PULL_UP, p & Pin.PULL_DOWN), value, True)


class PinIrq(IrqObj):
    def flags(self):
        return self._board.pin(self._id).trigger


class Pin(PinCommon):
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_RISING = 8
    IRQ_FALLING = 4
    ALT_SPI = 1
    ALT_UART = 2
    ALT_I2C = 3
    ALT_PWM = 4
    ALT_SIO = 5
    ALT_PIO0 = 6
    ALT_PIO1 = 7

    def low(self):
        self._write(0)

    def high(self):
        self._write(1)

    def irq(self, *pos, **kw):
        # machine_pin.c:456-483: handler, trigger, hard. A hard handler runs in the
        # ISR (shared/runtime/mpirq.c:71-102), a soft one is scheduled (:103-106).
        handler, trigger, hard = A.parse(pos, kw, (("handler", 0, None),
                                                   ("trigger", A.INT, 12),
                                                   ("hard", A.BOOL, False)))
        if pos or kw:
            self._set_irq(handler, trigger, hard)
        return PinIrq(self._board, self._id)


# ---- ADC --------------------------------------------------------------------
ADC_BASE_PIN = 26
NUM_ADC_CHANNELS = 5  # 4 pins + the temperature sensor (channel 4)
VREF = 3.3  # docs/rp2/quickref.rst:250 "The standard ADC range is 0-3.3V"


class ADC:
    _board = None
    CORE_TEMP = 4

    def __init__(self, *pos, **kw):
        # machine_adc.c:64-130: exactly one positional argument, no keywords;
        # an int 0-4 is a channel, anything else must be one of the ADC pins 26-29.
        A.check_num(len(pos), len(kw), 1, 1, False)
        src = pos[0]
        if isinstance(src, int) and not isinstance(src, bool) and 0 <= src < NUM_ADC_CHANNELS:
            self._channel = src
        else:
            pid = find_pin(self._board, src)
            if not ADC_BASE_PIN <= pid < ADC_BASE_PIN + 4:
                raise ValueError("Pin doesn't have ADC capabilities")
            self._channel = pid - ADC_BASE_PIN

    def read_u16(self):
        # machine_adc.c:37-43: 12-bit conversion scaled as raw << 4 | raw >> 8
        if self._channel == 4:
            volts = 0.706  # the sensor's 27 degC voltage (RP2040 datasheet 4.9.5)
        else:
            volts = self._board.adc_volts.get(ADC_BASE_PIN + self._channel, 0.0)
        raw = int(volts / VREF * 4095 + 0.5)
        raw = 0 if raw < 0 else 4095 if raw > 4095 else raw
        return (raw << 4) | (raw >> 8)


# ---- UART -------------------------------------------------------------------
UART_FIFO = 32


def _valid_periph(uid, pin):
    return ((pin + 4) & 8) >> 3 == uid  # machine_uart.c:70


_UART_ARGS = (("baudrate", A.INT, -1), ("bits", A.INT, -1), ("parity", 0, -1),
              ("stop", A.INT, -1), ("tx", A.KW_ONLY, None), ("rx", A.KW_ONLY, None),
              ("cts", A.KW_ONLY, None), ("rts", A.KW_ONLY, None),
              ("timeout", A.KW_ONLY | A.INT, -1), ("timeout_char", A.KW_ONLY | A.INT, -1),
              ("invert", A.KW_ONLY | A.INT, -1), ("flow", A.KW_ONLY | A.INT, -1),
              ("txbuf", A.KW_ONLY | A.INT, -1), ("rxbuf", A.KW_ONLY | A.INT, -1))


def uart_check_id(uid):
    if not 0 <= uid < 2:
        raise ValueError("UART(%d) doesn't exist" % uid)  # machine_uart.c:463-466


def uart_defaults(line):
    line.baudrate = 115200  # machine_uart.c:39-41, 67
    line.bits = 8
    line.parity = None
    line.stop = 1
    line.txbuf = 256
    line.tx_capacity = 256 + UART_FIFO


def uart_wait_us(timeout_ms):
    # machine_uart.c:594-622: waits while elapsed ms <= timeout, so up to one ms more
    return (timeout_ms + 1) * 1000


def uart_init(uart, pos, kw, fresh):
    # machine_uart.c:261-420
    (baud, bits, parity, stop, tx, rx, cts, rts, timeout, timeout_char, invert, flow,
     txbuf, rxbuf) = A.parse(pos, kw, _UART_ARGS)
    line = uart._line
    uid = uart._id
    if fresh:
        uart._timeout = 0
        uart._timeout_char = 0
    if baud > 0:
        line.baudrate = baud
    if bits > 0:
        line.bits = bits
    if parity is None:
        line.parity = None
    elif parity != -1:
        line.parity = "odd" if A.get_int(parity) & 1 else "even"
    if stop > 0:
        line.stop = stop
    board = uart._board
    if tx is not None:
        p = find_pin(board, tx)
        if not (p & 3 == 0 and _valid_periph(uid, p)):
            raise ValueError("bad TX pin")
    if rx is not None:
        p = find_pin(board, rx)
        if not (p & 3 == 1 and _valid_periph(uid, p)):
            raise ValueError("bad RX pin")
    if timeout >= 0:
        uart._timeout = timeout
    if timeout_char >= 0:
        uart._timeout_char = timeout_char
    if rxbuf >= 0 and rxbuf > 32766:
        raise ValueError("rxbuf too large")
    if txbuf >= 0:
        if txbuf > 32766:
            raise ValueError("txbuf too large")
        line.txbuf = txbuf if txbuf >= 32 else 32
        line.tx_capacity = line.txbuf + UART_FIFO
    min_char = 13000 // line.baudrate + 1  # :406-410
    if uart._timeout_char < min_char:
        uart._timeout_char = min_char


def uart_write(uart, data):
    # machine_uart.c:626-668: what fits in the ring buffer goes at once; then each
    # further byte waits for room, giving up (a short count) after the timeout.
    line = uart._line
    clock = line.clock
    line.settle()
    c = line.char_us()
    room = line.tx_capacity - line.queued_at(clock.us)
    if len(data) <= room:
        line.write(data)
        return len(data)
    # Bytes that still fit while the shift register drains within the timeout.
    waited = (uart._timeout + 1) * 1000
    n = room + waited // c
    if n > len(data):
        n = len(data)
    until = line.write(data[:n])
    clock.advance_to(until)
    return n


class UART(UartCommon):
    INV_TX = 1
    INV_RX = 2
    RTS = 2
    CTS = 1
    IRQ_RXIDLE = 64
    IRQ_TXIDLE = 32
    IRQ_BREAK = 512


# ---- WDT --------------------------------------------------------------------
WDT_TIMEOUT_MAX = 8388  # machine_wdt.c:31-32 (0xffffff / 2 / 1000)


def wdt_check(wid, timeout):
    if wid != 0:
        raise ValueError("WDT(%d) doesn't exist" % wid)
    if timeout & 0xFFFFFFFF > WDT_TIMEOUT_MAX:  # compared as uint32_t
        raise ValueError("timeout exceeds 8388")


def wdt_started(board):
    hook = getattr(board, "wdt_hook", None)
    if hook is not None:
        hook(board.wdt.timeout_ms)


wdt_fed = wdt_started


class WDT(WdtCommon):
    pass


def constants(m):
    m.PWRON_RESET = PWRON
    m.WDT_RESET = WDT_CAUSE


# ---- PWM (ports/rp2/machine_pwm.c) ---------------------------------------------------
SYS_HZ = 125000000
TOP_MAX = 65534  # :214


def _pwm_top(freq):
    # :216-246: the smallest divider (in 1/16ths) that fits, then TOP by rounding
    div16 = (16 * SYS_HZ + TOP_MAX * freq - 1) // (TOP_MAX * freq)
    if div16 < 16:
        div16 = 16
        top = (SYS_HZ + freq // 2) // freq - 1
        if top < 1:
            raise ValueError("freq too large")
    elif div16 >= 256 * 16:
        raise ValueError("freq too small")
    else:
        top = (16 * SYS_HZ + div16 * freq // 2) // (div16 * freq) - 1
    return top


class PWM:
    _board = None

    def __init__(self, *pos, **kw):
        A.check_num(len(pos), len(kw), 1, 1 << 30, True)
        pid = find_pin(self._board, pos[0])
        from .pwm import PwmOut

        out = PwmOut(pid)
        out.freq = 1907  # a fresh slice: divider 1, TOP 0xffff
        out.steps = 65536
        self._top = 65535
        self._board.pwms[pid] = out
        self._out = out
        self.init(*pos[1:], **kw)

    def init(self, *pos, **kw):
        # :106-140
        freq, duty_u16, duty_ns, invert = A.parse(
            pos, kw, (("freq", A.INT, -1), ("duty_u16", A.KW_ONLY | A.INT, -1),
                      ("duty_ns", A.KW_ONLY | A.INT, -1), ("invert", A.KW_ONLY | A.INT, -1)))
        out = self._out
        out.active = True
        if freq != -1:
            self.freq(freq)
        if duty_u16 != -1:
            self.duty_u16(duty_u16)
        if duty_ns != -1:
            self.duty_ns(duty_ns)
        if invert != -1:
            out.invert = bool(invert)

    def deinit(self):
        self._out.active = False

    def freq(self, *pos):
        out = self._out
        if not pos:
            return out.freq
        f = A.get_int(pos[0])
        if f <= 0:
            raise ValueError("freq too small")
        duty = out.duty_u16
        self._top = _pwm_top(f)
        out.freq = f
        out.steps = self._top + 1
        self.duty_u16(duty)

    def duty_u16(self, *pos):
        out = self._out
        top = self._top
        if not pos:
            return (out.level * 65535 + (top + 1) // 2) // (top + 1)  # :269
        d = A.get_int(pos[0]) & 0xFFFFFFFF
        if d > 65535:
            d = 65535  # :278-282 clamps, no error
        out.level = (d * (top + 1) + 65535 // 2) // 65535
        out.duty_u16 = (out.level * 65535 + (top + 1) // 2) // (top + 1)

    def duty_ns(self, *pos):
        out = self._out
        period_ns = 1000000000 // out.freq
        if not pos:
            return self.duty_u16() * period_ns // 65535
        self.duty_u16(A.get_int(pos[0]) * 65535 // period_ns)


# ---- SPI (ports/rp2/machine_spi.c) -----------------------------------------------------
_SPI_ARGS = (("id", A.INT, 0), ("baudrate", A.INT, 1000000),
             ("polarity", A.KW_ONLY | A.INT, 0), ("phase", A.KW_ONLY | A.INT, 0),
             ("bits", A.KW_ONLY | A.INT, 8), ("firstbit", A.KW_ONLY | A.INT, 0),
             ("sck", A.KW_ONLY, None), ("mosi", A.KW_ONLY, None), ("miso", A.KW_ONLY, -1))


def spi_init(spi, pos, kw, fresh):
    # :137-200: SPI(0) and SPI(1); SCK/MOSI/MISO must be that block's pins
    if fresh:
        sid, baud, pol, pha, bits, first, sck, mosi, miso = A.parse(pos, kw, _SPI_ARGS)
        if not 0 <= sid <= 1:
            raise ValueError("SPI(%d) doesn't exist" % sid)
        spi._id = sid
    else:
        baud, pol, pha, bits, first, sck, mosi, miso = A.parse(pos, kw, _SPI_ARGS[1:])
    sid = spi._id
    board = spi._board

    def ok(p, low2):
        return p & 3 == low2 and (p & 8) >> 3 == sid  # :87-93

    if sck is not None and not ok(find_pin(board, sck), 2):
        raise ValueError("bad SCK pin")
    if mosi is not None and not ok(find_pin(board, mosi), 3):
        raise ValueError("bad MOSI pin")
    if miso is not None and miso != -1 and not ok(find_pin(board, miso), 0):
        raise ValueError("bad MISO pin")
    spi._baud = baud
    spi._fill = 0
    from .spi import spi_end

    # The clock mode, as the bus's devices see it: set by the constructor
    # (default 0, 0), changed by init() only when given (machine_spi.c:137-197, :239-246).
    end = spi_end(board, sid)
    if fresh or "polarity" in kw:
        end.polarity = pol
    if fresh or "phase" in kw:
        end.phase = pha


def peripherals(m, board):
    from .common import bind
    from .onewire import make_module as make_onewire
    from .spi import SpiCommon

    class SPI(SpiCommon):
        MSB = 1
        LSB = 0

    m.PWM = bind(PWM, board)
    m.SPI = bind(SPI, board)
    m.onewire = make_onewire(m)
