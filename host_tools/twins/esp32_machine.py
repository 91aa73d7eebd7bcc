# Twin of MicroPython v1.27.0's `machine` on ESP32 (ESP32_GENERIC). Sources:
# ports/esp32/machine_pin.c, machine_pin.h, machine_adc.c, adc.h, machine_uart.c,
# machine_wdt.c, modmachine.c, docs/esp32/quickref.rst (docs/machine-twins.md).
from . import args as A
from .board import MODE_IN, MODE_OD, MODE_OUT
from .common import IrqObj, PinCommon, UartCommon, WdtCommon, configure_pin, static_object

NAME = "esp32"

# modmachine.c:84-88 (reset_reason_t) and :66-72
PWRON = 1
HARD = 2
WDT_CAUSE = 3
DEEPSLEEP = 4
SOFT = 5
# machine.reset() -> esp_restart() (modmachine.c:313-315): ESP_RST_SW -> HARD_RESET (:250-253)
RESET_CAUSE = HARD
UNIQUE_ID = b"\x24\x0a\xc4\x12\x34\x56"  # 6 bytes: the Wi-Fi MAC (modmachine.c:317-321)


def cause_after_soft_reset(cause):
    return SOFT  # machine_deinit() sets is_soft_reset (modmachine.c:303-306, :234-235)


def boot_cause(event, hw_event):
    """reset_cause() after a boot of the virtual board: event is what ended the last
    run (power, reset = machine.reset(), wdt, crash = a panic, soft), hw_event the
    last one that was not soft. ESP_RST_PANIC maps to HARD_RESET (modmachine.c:250-253)."""
    return {"soft": SOFT, "reset": HARD, "wdt": WDT_CAUSE, "crash": HARD}.get(event, PWRON)


# machine_pin.h:34-72: the GPIOs the ESP32 port has (no 24, 28-31).
VALID_PINS = tuple(range(0, 24)) + (25, 26, 27) + tuple(range(32, 40))
ALL_PINS = VALID_PINS  # twins.preload: the static pin table's entries
FIRST_INPUT_ONLY = 34  # machine_pin.c:54-55 GPIO_FIRST_NON_OUTPUT

# IDF enum values behind the Pin constants (machine_pin.c:397-410, :50-52)
GPIO_MODE_INPUT = 1
GPIO_MODE_OUTPUT_BIT = 2
GPIO_MODE_OD_BIT = 4
IRQ_RISING_FLAG = 1  # GPIO_INTR_POSEDGE
IRQ_FALLING_FLAG = 2  # GPIO_INTR_NEGEDGE
_NO_PULL_ARG = object()


def find_pin(board, pin):
    # machine_pin.c:100-125 machine_pin_find: a Pin, an index of an existing GPIO, a board name
    if isinstance(pin, PinCommon):
        return pin._id
    if isinstance(pin, int) and not isinstance(pin, bool) and pin in VALID_PINS:
        return pin
    raise ValueError("invalid pin")


def effective_pull(s):
    # GPIO34-39 have no pull resistors: the port's gpio_pullup_en() there fails
    # and the error is ignored (machine_pin.c:207-222), so the input floats.
    if s.id >= FIRST_INPUT_ONLY:
        return (False, False)
    return (s.pull_up, s.pull_down)


_PIN_ARGS = (("mode", 0, None), ("pull", 0, _NO_PULL_ARG), ("value", A.KW_ONLY, None),
             ("drive", A.KW_ONLY, None), ("hold", A.KW_ONLY, None))


def pin_init(board, pid, pos, kw):
    # machine_pin.c:138-235
    mode, pull, value, drive, hold = A.parse(pos, kw, _PIN_ARGS)
    new_mode = None
    if mode is not None:
        mode = A.get_int(mode)
        if pid >= FIRST_INPUT_ONLY and mode & GPIO_MODE_OUTPUT_BIT:
            raise ValueError("pin can only be input")
        if mode & GPIO_MODE_OUTPUT_BIT:
            new_mode = MODE_OD if mode & GPIO_MODE_OD_BIT else MODE_OUT
        else:
            new_mode = MODE_IN
    set_pull = pull is not _NO_PULL_ARG
    pulls = None
    if set_pull and pull is not None:
        p = A.get_int(pull)
        pulls = (p & Pin.PULL_UP, p & Pin.PULL_DOWN)
    configure_pin(board, pid, new_mode, pulls, value, set_pull)


class Pin(PinCommon):
    IN = 1  # GPIO_MODE_INPUT
    OUT = 3  # GPIO_MODE_INPUT_OUTPUT
    OPEN_DRAIN = 7  # GPIO_MODE_INPUT_OUTPUT_OD
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def irq(self, *pos, **kw):
        # machine_pin.c:307-374: handler, trigger, wake -- no `hard`: every pin IRQ
        # is queued with mp_sched_schedule from the ISR (machine_pin.c:93-98).
        handler, trigger, wake = A.parse(pos, kw, (("handler", 0, None),
                                                   ("trigger", A.INT, 3),
                                                   ("wake", 0, None)))
        if pos or kw:
            if wake is not None and trigger in (self.WAKE_LOW, self.WAKE_HIGH):
                if not isinstance(wake, int) or not 2 <= wake <= 7:
                    raise ValueError("bad wake value")
            self._set_irq(handler, trigger, False)
        return IrqObj(self._board, self._id)


# ---- ADC --------------------------------------------------------------------
# machine_adc.c:70-89: the GPIOs with an ADC channel (block 1: 32-39, block 2 the rest).
ADC_PINS = (36, 37, 38, 39, 32, 33, 34, 35, 4, 0, 2, 15, 13, 12, 14, 27, 25, 26)
# docs/esp32/quickref.rst:480-501: readings are 0 at or below the minimum, linear
# inside the documented range. Per attenuation (0, 2.5, 6, 11 dB), in mV: the
# minimum, the top of the linear range, and the full scale (raw 4095) of the
# linear law. Above the linear range the twin halves the gain (the "less
# linear close to the reference" of the docs) until the code clips at 4095.
ADC_CURVE = ((100, 950, 1100), (100, 1250, 1450), (150, 1750, 2050), (150, 2450, 2950))
ADC_BITS = 12  # adc.h:56 ADC_WIDTH_MAX on the ESP32


def adc_raw(atten, volts):
    v0, vlin, vfs = ADC_CURVE[atten]
    mv = volts * 1000.0
    gain = 4095.0 / (vfs - v0)
    if mv <= v0:
        return 0
    if mv <= vlin:
        raw = (mv - v0) * gain
    else:
        raw = (vlin - v0) * gain + (mv - vlin) * gain / 2
    raw = int(raw + 0.5)
    return 4095 if raw > 4095 else raw


def adc_uv(atten, raw):
    # read_uv(): the calibration's linear law applied to the code, millivolt
    # resolution (quickref.rst:507-517; adc.c:65-72 returns mV * 1000).
    v0, vlin, vfs = ADC_CURVE[atten]
    return int(v0 + raw * (vfs - v0) / 4095.0 + 0.5) * 1000


class ADC:
    _board = None
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12

    def __init__(self, *pos, **kw):
        # machine_adc.c:212-225, madc_init_helper :174-199
        A.check_num(len(pos), len(kw), 1, 1 << 30, True)
        pid = find_pin(self._board, pos[0])
        if pid not in ADC_PINS:
            raise ValueError("invalid pin")
        self._id = pid
        self.init(*pos[1:], **kw)

    def init(self, *pos, **kw):
        (atten,) = A.parse(pos, kw, (("atten", A.KW_ONLY | A.INT, -1),))
        self._set_atten(3 if atten == -1 else atten)

    def _set_atten(self, atten):
        if not 0 <= atten <= 3:
            raise ValueError("invalid attenuation")  # machine_adc.c:253-258
        self._board.adc_atten[self._id] = atten

    def atten(self, atten):
        self._set_atten(A.get_int(atten))

    def width(self, bits):
        if A.get_int(bits) not in (9, 10, 11, 12):
            raise ValueError("invalid bit-width")
        self._board.adc_bits = bits

    def _raw(self):
        board = self._board
        raw = adc_raw(board.adc_atten.get(self._id, 3), board.adc_volts.get(self._id, 0.0))
        bits = getattr(board, "adc_bits", ADC_BITS)
        return raw >> (12 - bits)

    def read(self):
        return self._raw()

    def read_u16(self):
        # machine_adc.c:236-242: raw << (16 - bits) | raw >> (2 * bits - 16)
        bits = getattr(self._board, "adc_bits", ADC_BITS)
        raw = self._raw()
        return (raw << (16 - bits)) | (raw >> (2 * bits - 16))

    def read_uv(self):
        board = self._board
        bits = getattr(board, "adc_bits", ADC_BITS)
        return adc_uv(board.adc_atten.get(self._id, 3), self._raw() << (12 - bits))

    def deinit(self):
        pass


# ---- UART -------------------------------------------------------------------
UART_COUNT = 3  # UART_NUM_MAX on the ESP32 (machine_uart.c:493-495)
UART_FIFO = 128  # SOC_UART_FIFO_LEN
RTOS_TICK_MS = 10  # CONFIG_FREERTOS_HZ=100: pdMS_TO_TICKS rounds down to 10 ms ticks

_UART_ARGS = (("baudrate", A.INT, 0), ("bits", A.INT, 0), ("parity", 0, _NO_PULL_ARG),
              ("stop", A.INT, 0), ("tx", A.KW_ONLY, None), ("rx", A.KW_ONLY, None),
              ("rts", A.KW_ONLY, None), ("cts", A.KW_ONLY, None),
              ("txbuf", A.KW_ONLY | A.INT, -1), ("rxbuf", A.KW_ONLY | A.INT, -1),
              ("timeout", A.KW_ONLY | A.INT, -1), ("timeout_char", A.KW_ONLY | A.INT, -1),
              ("invert", A.KW_ONLY | A.INT, -1), ("flow", A.KW_ONLY | A.INT, -1))


def uart_check_id(uid):
    if not 0 <= uid < UART_COUNT:
        raise ValueError("UART(%d) does not exist" % uid)


def uart_defaults(line):
    # machine_uart.c:257-268 and :312-320: 115200 8N1, 256-byte ring buffers
    line.baudrate = 115200
    line.bits = 8
    line.parity = None
    line.stop = 1
    line.txbuf = 256
    line.tx_capacity = 256 + UART_FIFO


def uart_wait_us(timeout_ms):
    return (timeout_ms // RTOS_TICK_MS) * RTOS_TICK_MS * 1000


def uart_init(uart, pos, kw, fresh):
    # machine_uart.c:234-488
    (baud, bits, parity, stop, tx, rx, rts, cts, txbuf, rxbuf, timeout, timeout_char,
     invert, flow) = A.parse(pos, kw, _UART_ARGS)
    board = uart._board
    line = uart._line
    if fresh:
        uart._timeout = 0
        uart._timeout_char = 0
    else:
        uart.flush()  # :309 waits for TX done before changing settings
    if (txbuf >= 0 and txbuf != line.txbuf) or (rxbuf >= 0):
        if uart._id == 0 and (txbuf >= 0 and txbuf != line.txbuf or rxbuf not in (-1, 256)):
            raise ValueError("REPL UART buffer size is fixed")
        if txbuf >= 0:
            line.txbuf = txbuf
            line.tx_capacity = txbuf + UART_FIFO if txbuf else UART_FIFO
    for p in (tx, rx, rts, cts):
        if p is not None:
            find_pin(board, p)
    for p in (tx, rts):
        if p is not None and find_pin(board, p) >= FIRST_INPUT_ONLY:
            raise OSError(-258, "ESP_ERR_INVALID_ARG")  # uart_set_pin() refuses, check_esp_err
    if bits not in (0, 5, 6, 7, 8):
        raise ValueError("invalid data bits")
    if stop not in (0, 1, 2):
        raise ValueError("invalid stop bits")
    if baud > 0:
        line.baudrate = baud
    if bits:
        line.bits = bits
    if parity is not _NO_PULL_ARG:
        line.parity = None if parity is None else ("odd" if A.get_int(parity) & 1 else "even")
    if stop:
        line.stop = stop
    if timeout != -1:
        uart._timeout = timeout
    if timeout_char != -1:
        uart._timeout_char = timeout_char


def uart_write(uart, data):
    # uart_write_bytes() copies into the TX ring buffer and blocks only while it is full
    line = uart._line
    until = line.write(data)
    line.clock.advance_to(until)
    return len(data)


class UART(UartCommon):
    INV_TX = 1
    INV_RX = 4
    INV_RTS = 2
    INV_CTS = 8
    RTS = 1
    CTS = 2
    IRQ_RX = 1
    IRQ_RXIDLE = 4096
    IRQ_BREAK = 512


def repl_write_cost_us(nbytes, baud=115200, fifo_used=0):
    """What printing nbytes on UART0 (the REPL) costs the caller, in us.

    uart_stdout_tx_strn (ports/esp32/uart.c:84-99) fills the 128-byte hardware
    FIFO and, while bytes remain, sleeps one RTOS tick (10 ms) before trying
    again: a line that does not fit in the FIFO blocks for whole ticks."""
    char_us = 10 * 1000000 // baud
    per_tick = RTOS_TICK_MS * 1000 // char_us
    cost = 0
    left = nbytes
    used = fifo_used
    while True:
        room = UART_FIFO - used
        n = room if left > room else left
        left -= n
        used += n
        if left <= 0:
            return cost
        cost += RTOS_TICK_MS * 1000
        used = used - per_tick if used > per_tick else 0


# ---- WDT --------------------------------------------------------------------
def wdt_check(wid, timeout):
    # machine_wdt.c:42-49
    if wid != 0:
        raise ValueError()
    if timeout <= 0:
        raise ValueError("WDT timeout too short")


def wdt_started(board):
    hook = getattr(board, "wdt_hook", None)
    if hook is not None:
        hook(board.wdt.timeout_ms)


def wdt_fed(board):
    hook = getattr(board, "wdt_hook", None)
    if hook is not None:
        hook(board.wdt.timeout_ms)


class WDT(WdtCommon):
    pass


def constants(m):
    m.PWRON_RESET = PWRON
    m.HARD_RESET = HARD
    m.WDT_RESET = WDT_CAUSE
    m.DEEPSLEEP_RESET = DEEPSLEEP
    m.SOFT_RESET = SOFT
    m.SLEEP = 2
    m.DEEPSLEEP = 4


# ---- PWM (ports/esp32/machine_pwm.c) -----------------------------------------------
PWM_FREQ = 5000  # :63 default frequency
PWM_DUTY = 32768  # :65 default duty: 50 %
APB_HZ = 80000000
LEDC_TIMER_BIT_WIDTH = 20  # SOC_LEDC_TIMER_BIT_WIDTH on the ESP32


def pwm_resolution(freq):
    # find_suitable_duty_resolution (:273-288): as many bits as the 80 MHz clock
    # allows at this frequency, at most 16, one less at the hardware maximum.
    res = 0
    while (APB_HZ // freq) >> (res + 1):
        res += 1
    if res > 16:
        res = 16
    if res >= LEDC_TIMER_BIT_WIDTH:
        res -= 1
    return res


class PWM:
    _board = None

    def __init__(self, *pos, **kw):
        A.check_num(len(pos), len(kw), 1, 2, True)
        pid = find_pin(self._board, pos[0])
        if pid >= FIRST_INPUT_ONLY:
            raise OSError(-258, "ESP_ERR_INVALID_ARG")  # LEDC cannot drive an input-only pad
        self._id = pid
        from .pwm import PwmOut

        out = PwmOut(pid)
        out.freq = 0
        out.duty_u16 = -1
        self._board.pwms[pid] = out
        self._out = out
        self.init(*pos[1:], **kw)

    def init(self, *pos, **kw):
        # :640-700
        freq, duty, duty_u16, duty_ns, invert, lightsleep = A.parse(
            pos, kw, (("freq", A.INT, -1), ("duty", A.KW_ONLY | A.INT, -1),
                      ("duty_u16", A.KW_ONLY | A.INT, -1), ("duty_ns", A.KW_ONLY | A.INT, -1),
                      ("invert", A.KW_ONLY | A.BOOL, False),
                      ("lightsleep", A.KW_ONLY | A.BOOL, False)))
        out = self._out
        out.active = True
        out.invert = invert
        if freq == -1:
            freq = out.freq if out.freq > 0 else PWM_FREQ
        self._check_freq(freq)
        if duty_u16 >= 0:
            self._check_u16(duty_u16)
        elif duty >= 0:
            if duty > 1023:
                raise ValueError("duty must be from 0 to 1023")
            duty_u16 = duty << 6
        elif out.duty_u16 < 0:
            duty_u16 = PWM_DUTY
        else:
            duty_u16 = out.duty_u16
        out.freq = freq
        self._apply(duty_u16)

    def _check_freq(self, freq):
        if freq <= 0 or freq > 40000000:
            raise ValueError("frequency must be from 1Hz to 40MHz")  # :378-382

    def _check_u16(self, duty):
        if duty < 0 or duty > 65535:
            raise ValueError("duty_u16 must be from 0 to 65536")  # :309-312

    def _apply(self, duty_u16):
        out = self._out
        res = pwm_resolution(out.freq)
        full = 65536 if duty_u16 == 65535 else duty_u16  # :313-315: 65535 means 100 %
        out.steps = 1 << res
        out.level = full >> (16 - res)
        out.duty_u16 = (out.level << (16 - res))
        if out.duty_u16 > 65535:
            out.duty_u16 = 65535

    def _active(self):
        if not self._out.active:
            raise RuntimeError("PWM is inactive")  # :198-201

    def deinit(self):
        out = self._out
        out.active = False
        out.duty_u16 = -1
        out.freq = 0

    def freq(self, *pos):
        self._active()
        if not pos:
            return self._out.freq
        f = A.get_int(pos[0])
        self._check_freq(f)
        self._out.freq = f
        self._apply(self._out.duty_u16)

    def duty_u16(self, *pos):
        self._active()
        if not pos:
            return self._out.duty_u16
        d = A.get_int(pos[0])
        self._check_u16(d)
        self._apply(d)

    def duty(self, *pos):
        self._active()
        if not pos:
            return self._out.duty_u16 >> 6
        d = A.get_int(pos[0])
        if not 0 <= d <= 1023:
            raise ValueError("duty must be from 0 to 1023")
        self._apply(d << 6)

    def duty_ns(self, *pos):
        self._active()
        period_ns = 1000000000 // self._out.freq
        if not pos:
            return self._out.duty_u16 * period_ns // 65536
        self._apply(A.get_int(pos[0]) * 65536 // period_ns)


# ---- DAC (ports/esp32/machine_dac.c) -----------------------------------------------
DAC_PINS = (25, 26)  # :48-49


class DAC:
    _board = None

    def __new__(cls, *pos, **kw):
        # :46-50, :75: DAC(pin) is the channel's entry in a static table.
        A.check_num(len(pos), len(kw), 1, 1, True)
        pid = find_pin(cls._board, pos[0])
        if pid not in DAC_PINS:
            raise ValueError("invalid Pin for DAC")
        return static_object(cls, ("dac", pid))

    def __init__(self, *pos, **kw):
        A.check_num(len(pos), len(kw), 1, 1, True)  # :59: keywords pass the check, unused
        pid = find_pin(self._board, pos[0])
        if pid not in DAC_PINS:
            raise ValueError("invalid Pin for DAC")
        from .pwm import DacOut

        out = DacOut(pid)  # :74 output starts at 0
        self._board.dacs[pid] = out
        self._out = out

    def write(self, value):
        v = A.get_int(value)
        if v < 0 or v > 255:
            raise ValueError("value out of range")  # :83-90
        self._out.value = v


# ---- SPI (ports/esp32/machine_hw_spi.c) ---------------------------------------------
_SPI_ARGS = (("id", A.REQUIRED | A.INT, -1), ("baudrate", A.INT, -1),
             ("polarity", A.KW_ONLY | A.INT, -1), ("phase", A.KW_ONLY | A.INT, -1),
             ("bits", A.KW_ONLY | A.INT, -1), ("firstbit", A.KW_ONLY | A.INT, -1),
             ("sck", A.KW_ONLY, None), ("mosi", A.KW_ONLY, None), ("miso", A.KW_ONLY, None))


def spi_init(spi, pos, kw, fresh):
    # :126-160, :440-460: SPI(1) and SPI(2) (HSPI, VSPI); any GPIO through the matrix
    if fresh:
        sid, baud, pol, pha, bits, first, sck, mosi, miso = A.parse(pos, kw, _SPI_ARGS)
        if not 1 <= sid <= 2:
            raise ValueError("SPI(%d) doesn't exist" % sid)
        spi._id = sid
        spi._baud = 500000
    else:
        baud, pol, pha, bits, first, sck, mosi, miso = A.parse(pos, kw, _SPI_ARGS[1:])
    board = spi._board
    for p in (sck, mosi, miso):
        if p is not None:
            find_pin(board, p)
    for p in (sck, mosi):
        if p is not None and find_pin(board, p) >= FIRST_INPUT_ONLY:
            raise OSError("invalid configuration")
    if baud > 0:
        spi._baud = baud
    if bits not in (-1, 8, 16, 32) and bits % 8:
        raise ValueError("invalid bits")
    spi._fill = 0
    from .spi import spi_end

    # The clock mode, as the bus's devices see it: 0, 0 for a new SPI unless
    # given (machine_hw_spi.c:449-454), init() changes only what it is given (:193-199).
    end = spi_end(board, spi._id)
    if fresh:
        end.polarity = end.phase = 0
    if pol >= 0:
        end.polarity = pol
    if pha >= 0:
        end.phase = pha


def peripherals(m, board):
    from .common import bind
    from .onewire import make_module as make_onewire
    from .spi import SpiCommon

    class SPI(SpiCommon):
        MSB = 0
        LSB = 1

    m.PWM = bind(PWM, board)
    m.DAC = bind(DAC, board)
    m.SPI = bind(SPI, board)
    m.onewire = make_onewire(m)
    from .esp32_module import make_module as make_esp32

    m.esp32 = make_esp32(m, board)
