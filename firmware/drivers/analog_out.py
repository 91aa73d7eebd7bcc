# 0-10 V (or 2-10 V) actuator command: a VFD's analog speed input or a
# modulating valve. The pin makes 0..3.3 V, either as PWM smoothed by an RC
# low-pass (RP2040) or from the ESP32's 8-bit DAC, and an op-amp stage scales
# it up; the driver maps output % to the code that gives the wanted volts.
#
# There is no feedback, so position_pct is what is commanded and fault is
# always 0: a broken wire or a dead op-amp cannot be seen from here (the flow
# sensor and the controller's LOW_FLOW alarm catch the consequence).
from core.compat import const, is_finite, unload

KINDS = ("pwm", "dac")
CALIBRATIONS = ("nominal", "two_point")

_PWM_FULL = const(65535)  # machine.PWM.duty_u16: duty = value / 65535
_DAC_FULL = const(255)  # ESP-IDF DAC docs: code 255 gives VDD3P3_RTC

PARAMS = (
    ("kind", KINDS, 0, 0, "pwm", "pwm: PWM + RC filter (RP2040); dac: ESP32 8-bit DAC"),
    ("v_at_0_pct", "V", 0.0, 12.0, 0.0, "output volts at 0 % (2.0 for a 2-10 V input)"),
    ("v_at_100_pct", "V", 0.0, 12.0, 10.0, "output volts at 100 %"),
    ("stop_pct", "%", 0.0, 100.0, 0.0, "output while run is False"),
    ("pin_full_v", "V", 1.0, 5.0, 3.3, "pin volts at full-scale code (PWM high / DAC VDD)"),
    ("gain", "V/V", 1.0, 10.0, 3.0303, "op-amp stage gain, output volts per pin volt"),
    ("calibration", CALIBRATIONS, 0, 0, "nominal", "nominal: pin_full_v and gain; "
     "two_point: the cal_* measurements"),
    ("cal_code_a", "code", 0, 65535, 13107, "first calibration code (DAC: 0..255)"),
    ("cal_v_a", "V", -1.0, 15.0, 2.0, "output volts measured at cal_code_a"),
    ("cal_code_b", "code", 0, 65535, 52428, "second calibration code (DAC: 0..255)"),
    ("cal_v_b", "V", -1.0, 15.0, 8.0, "output volts measured at cal_code_b"),
    ("pwm_freq_hz", "Hz", 100, 100000, 1000, "PWM frequency (kind pwm)"),
)


class AnalogOut:
    """`out` is a machine.PWM (kind "pwm") or machine.DAC (kind "dac"); `run_pin`
    an optional output Pin for the pump's run relay (high: energised while
    `run`; a 0-10 V speed input alone does not start a drive)."""

    def __init__(self, out, params: dict, run_pin=None):
        self._out = out
        self._run_pin = run_pin
        self._run_on = -1  # level written to run_pin; -1: none yet
        if run_pin is not None:
            run_pin.value(0)
            self._run_on = 0
        self._pwm = params["kind"] == "pwm"
        full = _PWM_FULL if self._pwm else _DAC_FULL
        self.full_code = full
        from drivers import analog_setup  # checks used once: loaded and dropped

        try:
            slope, offset = analog_setup.calibrate(params, full)
        finally:
            unload("drivers.analog_setup")
        self.slope_v = slope  # output volts per code
        self.offset_v = offset  # output volts at code 0
        v0 = params["v_at_0_pct"]
        v100 = params["v_at_100_pct"]
        self._v0 = v0
        self._span_v = v100 - v0
        self._stop = params["stop_pct"]
        self._wish = 0.0
        self._run = False
        # poll() runs every slice and must not allocate (floats are boxed in
        # MicroPython): the codes and clamped percentages it writes are worked
        # out here and in apply(), once per change.
        self._stop_pct = self._clamp(self._stop)
        self._stop_code = self.code_for_pct(self._stop_pct)
        self._wish_pct = 0.0
        self._wish_code = self.code_for_pct(0.0)
        self._raw = -1  # commissioning override code, -1 when off
        self.code = -1  # last code written
        self.fault = 0  # no feedback, nothing to detect (see the module comment)
        self.position_pct = self._stop
        if self._pwm:
            out.freq(params["pwm_freq_hz"])
        # Define the output at once: PWM and DAC power up at an arbitrary or
        # zero level, and the actuator must see the stop level until the first
        # poll, not whatever the pin did during boot.
        self._write(self.code_for_pct(self._stop))

    @staticmethod
    def _clamp(pct: float) -> float:
        if pct < 0.0:
            return 0.0
        if pct > 100.0:
            return 100.0
        return pct

    # ---- conversions (pure; also used by tests and the console) ---------
    def volts_for_pct(self, pct: float) -> float:
        if pct < 0.0:
            pct = 0.0
        elif pct > 100.0:
            pct = 100.0
        return self._v0 + self._span_v * pct * 0.01

    def code_for_volts(self, volts: float) -> int:
        c = (volts - self.offset_v) / self.slope_v
        if c <= 0.0:
            return 0
        if c >= self.full_code:
            return self.full_code
        return int(c + 0.5)

    def code_for_pct(self, pct: float) -> int:
        return self.code_for_volts(self.volts_for_pct(pct))

    def volts_for_code(self, code: int) -> float:
        """Output volts the calibrated stage model gives at a code."""
        return self.offset_v + self.slope_v * code

    def pct_for_volts(self, volts: float) -> float:
        return (volts - self._v0) * 100.0 / self._span_v

    @property
    def volts(self) -> float:
        """Modelled output volts of the code now written."""
        return self.volts_for_code(self.code)

    # ---- actuator contract ----------------------------------------------
    def apply(self, output_pct: float, run: bool):
        # A nan/inf command is a bug upstream; holding the last wish keeps the
        # output defined (the controller's own safe state also holds).
        if is_finite(output_pct) and output_pct != self._wish:
            self._wish = output_pct
            self._wish_pct = self._clamp(output_pct)
            self._wish_code = self.code_for_pct(self._wish_pct)
        self._run = run

    def safe(self):
        """Fail-safe: the output to 0 V at once (code 0: the op-amp stage makes
        0 V from 0 V at the pin), the commissioning override off, run off."""
        self._raw = -1
        self._run = False
        self._write(0)
        if self._run_pin is not None:
            self._run_pin.value(0)
            self._run_on = 0
        pct = self.pct_for_volts(self.volts_for_code(0))
        self.position_pct = self._clamp(pct)

    def set_raw(self, code: int):
        """Commissioning: hold a raw code (measure the output with a meter);
        -1 returns to normal operation."""
        if code < 0:
            self._raw = -1
            return
        self._raw = code if code < self.full_code else self.full_code
        pct = self.pct_for_volts(self.volts_for_code(self._raw))
        self.position_pct = 0.0 if pct < 0.0 else (100.0 if pct > 100.0 else pct)

    def poll(self, now_ms: int):
        pin = self._run_pin
        if pin is not None:
            on = 1 if self._run else 0
            if on != self._run_on:
                pin.value(on)
                self._run_on = on
        if self._raw >= 0:
            self._write(self._raw)
            return
        if self._run:
            self.position_pct = self._wish_pct
            self._write(self._wish_code)
        else:
            self.position_pct = self._stop_pct
            self._write(self._stop_code)

    def _write(self, code: int):
        if code == self.code:
            return
        if self._pwm:
            self._out.duty_u16(code)
        else:
            self._out.write(code)
        self.code = code
