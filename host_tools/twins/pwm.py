# machine.PWM and machine.DAC outputs as the world sees them (World.pwm(pin),
# World.dac(pin)); the machine-side classes are in the port modules.


class PwmOut:
    """The signal on a PWM pin: freq (Hz), duty_u16 as the port set it (after the
    hardware's quantisation), duty (0.0-1.0 of the period, high time), active."""

    def __init__(self, pin_id):
        self.pin = pin_id
        self.freq = 0
        self.duty_u16 = 0
        self.steps = 1 << 16  # duty resolution of the hardware at this freq
        self.level = 0  # duty counter value (in `steps`)
        self.invert = False
        self.active = True

    @property
    def duty(self):
        if not self.active:
            return 0.0
        d = self.level / self.steps
        if d > 1.0:
            d = 1.0
        return 1.0 - d if self.invert else d


class DacOut:
    """An ESP32 DAC pin: value 0-255, volts = value / 255 * vdd (8-bit DAC)."""

    VDD = 3.3

    def __init__(self, pin_id):
        self.pin = pin_id
        self.value = 0

    @property
    def volts(self):
        return self.value * self.VDD / 255
