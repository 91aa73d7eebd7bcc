# The outside of a twin board: what a test (or the plant model) controls and
# observes. Nothing here is reachable through the machine-side API.
from .board import MODE_OUT
from .uart import UartLine


class WdtView:
    def __init__(self, state):
        self._s = state

    @property
    def timeout_ms(self):
        return self._s.timeout_ms

    @property
    def feeds(self):
        return self._s.feeds

    def expired(self):
        return self._s.expired()

    def left_ms(self):
        return self._s.left_ms()


class World:
    def __init__(self, board):
        self._board = board
        self.clock = board.clock

    @property
    def port(self):
        return self._board.port.NAME

    # ---- pins -----------------------------------------------------------
    def drive(self, pin_id, level):
        """Something outside drives the pin (None: lets go of it). Edges raise the
        pin's IRQ as the port does: a hard handler runs now, a soft one is queued."""
        lv = None if level is None else (1 if level else 0)

        def apply(s):
            s.ext = lv

        self._board.change(pin_id, apply)

    def release(self, pin_id):
        self.drive(pin_id, None)

    def pulse(self, pin_id, width_us=0):
        """A low-going pulse on an idle-high input (open collector on a pull-up)."""
        self.drive(pin_id, 0)
        if width_us:
            self.clock.advance_us(width_us)
        self.drive(pin_id, 1)

    def level(self, pin_id):
        return self._board.level(pin_id)

    def is_output(self, pin_id):
        return self._board.pin(pin_id).mode == MODE_OUT

    def pull(self, pin_id):
        """The pull the pad really has: "up", "down" or None (ports ignore some)."""
        up, down = self._board.port.effective_pull(self._board.pin(pin_id))
        return "up" if up else "down" if down else None

    def writes(self, pin_id):
        return self._board.pin(pin_id).writes

    def set_float_level(self, level):
        """What a floating input (no pull, nothing driving) reads; 0 by default."""
        self._board.float_level = 1 if level else 0

    # ---- interrupts and the scheduler ----------------------------------------
    def run_scheduled(self):
        """The VM reaches a bytecode boundary: queued soft handlers run, in order."""
        return self._board.run_scheduled()

    @property
    def scheduled(self):
        return len(self._board.sched)

    @property
    def sched_dropped(self):
        """Soft IRQs lost because the schedule queue (depth 8) was full."""
        return self._board.sched_dropped

    @property
    def log(self):
        """What the board printed by itself (uncaught IRQ handler exceptions)."""
        return self._board.log

    # ---- analog ---------------------------------------------------------
    def set_volts(self, pin_id, volts):
        self._board.adc_volts[pin_id] = float(volts)

    def volts(self, pin_id):
        return self._board.adc_volts.get(pin_id, 0.0)

    def pwm(self, pin_id):
        return self._board.pwms.get(pin_id)

    def dac(self, pin_id):
        return self._board.dacs.get(pin_id)

    # ---- buses ----------------------------------------------------------
    def uart(self, uart_id):
        board = self._board
        line = board.lines.get(uart_id)
        if line is None:
            line = UartLine(board.clock, uart_id)
            board.port.uart_defaults(line)
            board.lines[uart_id] = line
        return line.end

    def rs485(self, uart_id, de_pin, bias_mv, glitch=0x00):
        """An RS-485 transceiver on the UART, its driver enabled by `de_pin`. When the
        board releases DE, the bus idles at the bias voltage; below the receivers'
        200 mV threshold (TIA/EIA-485) the idle line is undefined and the board's
        receiver sees one garbage character (`glitch`). Returns the far end."""
        end = self.uart(uart_id)

        def on_de(level, now_us):
            if not level and bias_mv < 200:
                end.feed(bytes([glitch]))

        self._board.pin(de_pin).watchers.append(on_de)
        return end

    def spi(self, spi_id):
        from .spi import spi_end

        return spi_end(self._board, spi_id)

    def onewire(self, pin_id):
        from .onewire import OneWireBus

        s = self._board.pin(pin_id)
        if s.bus is None:
            s.bus = OneWireBus(self.clock)
        return s.bus

    def pcnt(self, unit):
        """The esp32.PCNT unit's counter (ESP32 only), for pulses from outside."""
        return self._board.pcnt_units.get(unit)

    def repl_write_cost_us(self, nbytes):
        """What printing nbytes on the REPL costs the program, in us: on the ESP32
        (UART0) a line that does not fit the 128-byte FIFO waits whole 10 ms RTOS
        ticks (esp32_machine.repl_write_cost_us); the RP2's REPL is USB CDC, buffered."""
        fn = getattr(self._board.port, "repl_write_cost_us", None)
        return 0 if fn is None else fn(nbytes)

    # ---- watchdog and resets ------------------------------------------------
    @property
    def wdt(self):
        w = self._board.wdt
        return None if w is None else WdtView(w)

    def check_wdt(self):
        """If the watchdog has expired, the chip resets (cause WDT_RESET): True."""
        return self._board.check_wdt()

    @property
    def reset_cause(self):
        return self._board.cause

    def power_cycle(self):
        """Power cut: every pin an input, peripherals and the WDT off, cause PWRON_RESET."""
        self._board.hard_reset(self._board.port.PWRON)

    def soft_reset(self):
        """Ctrl-D at the REPL: peripherals off, the WDT keeps running."""
        return self._board.soft_reset()

    def soft_reset_state(self):
        """What survives a soft reset, as plain data (the WDT's timeout and time left)."""
        return self._board.soft_reset_state()
