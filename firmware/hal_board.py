# The hardware layer of a board profile: the drivers hw.plan() chose, built
# from an IO factory (MachineIO: the board's machine, or its twin on the virtual board),
# polled every 10 ms slice, read once per control tick. Driver faults go to the
# supervisor as alarm bits in meas.faults. The watchdog starts with the loop and
# is fed from the loop's slice only while control ticks run, so a stuck loop,
# console or HIL host resets the board.
from core import alarms
from core.compat import unload
from core.controller import UNIT_MODE_NONE
from stdio_console import StdioConsole

UNIT_COOLING = 1
UNIT_HEATING = 2


class UvAdc:
    """An ESP32 ADC read through read_uv() (the chip's calibration, linear in
    volts) as read_u16 codes on an ideal 0..3.3 V scale, so the drivers keep one
    code scale on every port. Outside the linear window of 11 dB attenuation
    (LOW_UV..HIGH_UV, the esp32 profile's "adc_linear_mv") a reading says only
    "beyond": it reads as the rail, 0 or 65535, which the drivers' rail fault
    checks see (an open or shorted NTC, a broken or shorted 4-20 mA loop).
    Small-int arithmetic only: no allocation."""

    LOW_UV = 150000
    HIGH_UV = 2450000

    def __init__(self, adc):
        self._read_uv = adc.read_uv

    def read_u16(self) -> int:
        uv = self._read_uv()
        if uv <= 150000:  # LOW_UV
            return 0
        if uv > 2450000:  # HIGH_UV
            return 65535
        # uv * 65535 / 3300000 as 324 / 16315 (error 4e-6): the product stays
        # below 2**30, a small int on 32-bit ports.
        return (uv * 324 + 8157) // 16315


class MachineIO:
    """Peripherals from MicroPython's `machine` (and `onewire`) on a real board."""

    def __init__(self, machine, port: str):
        self._m = machine
        self._port = port
        import time

        self.ticks_us = time.ticks_us
        self.sleep_us = time.sleep_us  # the RS-485 turnaround (drivers.modbus_rtu)

    def pin_in(self, pin: int, pull_up: bool = True):
        m = self._m
        return m.Pin(pin, m.Pin.IN, m.Pin.PULL_UP if pull_up else None)

    def pin_out(self, pin: int, value: int = 0):
        m = self._m
        return m.Pin(pin, m.Pin.OUT, value=value)

    def onewire(self, pin: int):
        import onewire

        m = self._m
        return onewire.OneWire(m.Pin(pin, m.Pin.OPEN_DRAIN, m.Pin.PULL_UP))

    def adc(self, pin: int):
        m = self._m
        if self._port == "esp32":
            # 11 dB attenuation (about 150..2450 mV linear), read calibrated in
            # volts: read_u16 there is neither linear nor calibrated.
            return UvAdc(m.ADC(m.Pin(pin), atten=m.ADC.ATTN_11DB))
        return m.ADC(m.Pin(pin))

    def pwm(self, pin: int, freq_hz: int):
        m = self._m
        return m.PWM(m.Pin(pin, m.Pin.OUT), freq=freq_hz, duty_u16=0)

    def dac(self, pin: int):
        # Only the ESP32 port has machine.DAC; hw.plan() refuses a DAC elsewhere.
        m = self._m
        return m.DAC(m.Pin(pin))

    def uart(self, uart_id: int, tx: int, rx: int):
        m = self._m
        return m.UART(uart_id, baudrate=9600, tx=m.Pin(tx), rx=m.Pin(rx))

    def flow_pcnt(self, pin: int, params: dict, unit: int = 0):
        import io_esp32  # pyright: ignore[reportMissingImports] -- ESP32 only

        return io_esp32.flow_pcnt(pin, params, unit)

    def spi(self, spi_id: int, sck: int, mosi: int, miso: int):
        # SPI mode 1 (CPOL 0, CPHA 1): one of the two the MAX31865 takes.
        m = self._m
        return m.SPI(spi_id, baudrate=1000000, polarity=0, phase=1, sck=m.Pin(sck),
                     mosi=m.Pin(mosi), miso=m.Pin(miso))

    def wdt(self, timeout_ms: int):
        return self._m.WDT(timeout=timeout_ms)

    def watchdog_reset(self) -> bool:
        """The last reset was the watchdog's, and not one the firmware asked for:
        RP2's machine.reset() is itself done with the watchdog (ports/rp2
        modmachine.c), so reset() leaves a marker file that this reads once."""
        import safe_out

        intended = safe_out.exists(safe_out.REBOOT_FILE)
        if intended:
            safe_out.remove(safe_out.REBOOT_FILE)
        m = self._m
        return m.reset_cause() == m.WDT_RESET and not intended

    def reset(self):
        import safe_out

        try:
            with open(safe_out.REBOOT_FILE, "w") as f:
                f.write("1")
        except OSError:
            pass  # a full or read-only flash: the next boot may say WDT_RESET
        self._m.reset()


def build_drivers(plan, io) -> dict:
    """section name -> driver for the sections a hw.plan() configures
    (hal_build.py: boot-only code, loaded for this and dropped again)."""
    import hal_build

    try:
        return hal_build.build_drivers(plan, io)
    finally:
        unload("hal_build")


class BoardHal(StdioConsole):
    def __init__(self, plan, io, board_name: str):
        StdioConsole.__init__(self)
        self.board_name = board_name
        self.boot_error = ""
        self._io = io
        self.temperature = None
        self.flow = None
        self.actuator = None
        self.t_out = None
        self.unit_power = None
        self.pump_power = None
        self.bms = None  # the BMS's Modbus slave (drivers.modbus_slave), when configured
        self._running_pin = None
        self._heating_pin = None
        self._active = 0
        self._wdt = None
        self._wdt_ms = 0  # the watchdog starts with the loop (start_watchdog)
        self._polled = ()  # every driver built, in no particular order
        self.watchdog_reset = io.watchdog_reset()
        if plan is None:
            return  # no usable hardware config: console only, measurements missing
        drivers = build_drivers(plan, io)
        self.temperature = drivers.get("temperature")
        self.flow = drivers.get("flow")
        self.actuator = drivers.get("actuator")
        self.t_out = drivers.get("t_out")
        self.unit_power = drivers.get("unit_power")
        self.pump_power = drivers.get("pump_power")
        self.bms = drivers.get("bms")
        self._polled = tuple(drivers.values())
        inputs = plan["inputs"]
        self._active = 0 if plan["active_low"] else 1
        if "unit_running" in inputs:
            self._running_pin = io.pin_in(inputs["unit_running"], plan["active_low"])
        if "unit_heating" in inputs:
            self._heating_pin = io.pin_in(inputs["unit_heating"], plan["active_low"])
        self._wdt_ms = plan["watchdog_s"] * 1000

    def start_watchdog(self):
        """Started by app.start() with the loop, not at boot: a boot that fails
        (MemoryError) then stops at the REPL instead of reset-looping."""
        if self._wdt_ms and self._wdt is None:
            self._wdt = self._io.wdt(self._wdt_ms)

    def feed(self):
        """The loop feeds the watchdog while it is healthy (app.App.slice)."""
        if self._wdt is not None:
            self._wdt.feed()

    def safe(self):
        """Outputs to their safe state through the drivers (the fail-safe): the
        0-10 V output at 0 V, valve relays off, the VFD told to stop, RS-485 DE
        released. Each driver on its own: one failing does not stop the rest."""
        for driver in self._polled:
            fn = getattr(driver, "safe", None)
            if fn is not None:
                try:
                    fn()
                except BaseException:  # noqa: B036 -- safe_out.apply() drives the pins after
                    pass

    def poll(self, now_ms: int):
        """Every slice: advance the drivers' non-blocking work."""
        for driver in self._polled:
            driver.poll(now_ms)

    def read(self, meas):
        faults = 0
        sensor = self.temperature
        if sensor is not None:
            meas.t_in_c = sensor.value
            faults |= sensor.fault
        sensor = self.flow
        if sensor is not None:
            meas.flow_m3h = sensor.value
            faults |= sensor.fault
        if self.actuator is not None:
            faults |= self.actuator.fault
        # Metering does not steer anything: its faults share one code and only
        # pause measured COP_s (its readings go missing).
        meter = 0
        sensor = self.t_out
        if sensor is not None:
            meas.t_out_c = sensor.value
            meter |= sensor.fault
        sensor = self.unit_power
        if sensor is not None:
            meas.p_unit_w = sensor.value
            meter |= sensor.fault
        sensor = self.pump_power
        if sensor is not None:
            meas.p_pump_w = sensor.value
            meter |= sensor.fault
        if meter:
            faults |= alarms.METER_FAULT
        meas.faults = faults
        pin = self._running_pin
        meas.unit_running = None if pin is None else pin.value() == self._active
        pin = self._heating_pin
        if pin is None:
            meas.unit_mode = UNIT_MODE_NONE
        else:
            meas.unit_mode = UNIT_HEATING if pin.value() == self._active else UNIT_COOLING

    def write(self, cmd):
        if self.actuator is not None:
            self.actuator.apply(cmd.output_pct, cmd.pump_run)

    def reset(self):
        self._io.reset()
