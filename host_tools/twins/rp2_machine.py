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


NUM_GPIOS = 30  # NUM_BANK0_GPIOS on the RP2040: GPIO 0-29 (machine_pin.c:182-190)
IRQ_RISING_FLAG = 8  # GPIO_IRQ_EDGE_RISE
IRQ_FALLING_FLAG = 4  # GPIO_IRQ_EDGE_FALL
GPIO_FUNC_SIO = 5
_NAMED = {"LED": 25}
for _i in range(29):
    _NAMED["GP%d" % _i] = _i


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
