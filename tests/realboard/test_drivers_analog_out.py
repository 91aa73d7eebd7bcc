"""Issue 11: the 0-10 V output driver on real ports. Its poll() runs every 10 ms
slice and must not allocate (item 12, measured on the host MicroPython), and its
safe() puts the output at 0 V for the fail-safe."""

import pytest

from drivers.analog_out import PARAMS, AnalogOut
from drivers.params import validate
from host_tools.micropython import make_flash, run_micropython
from host_tools.twins import make_machine

PROBE = """
import gc
from drivers.analog_out import PARAMS, AnalogOut
from drivers.params import validate

class Out:  # the least a PWM/DAC needs; allocation-free itself
    def __init__(self):
        self.code = -1
    def freq(self, f):
        pass
    def duty_u16(self, code):
        self.code = code
    def write(self, code):
        self.code = code

def measure(drv):
    before = gc.mem_alloc()
    for i in range(200):  # no range object: the compiler makes this a counter
        drv.poll(i)
    return gc.mem_alloc() - before

gc.disable()
measure(AnalogOut(Out(), validate(PARAMS, {}, "a")))  # the first call's own setup
for kind in ("pwm", "dac"):
    drv = AnalogOut(Out(), validate(PARAMS, {"kind": kind}, "a"))
    for run, pct in ((True, 37.5), (False, 37.5), (True, 100.0)):
        drv.apply(pct, run)
        drv.poll(0)  # the first poll after a change writes the new code
        print("ALLOC", kind, run, measure(drv))
"""


def test_analog_out_poll_allocates_nothing_in_steady_state(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    flash = make_flash(tmp_path / "flash", extra={"probe.py": probe})
    result = run_micropython(["/probe.py"], flash, heap="1M", timeout_s=60)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    lines = [line.split() for line in out.splitlines() if line.startswith("ALLOC")]
    assert len(lines) == 6, out
    assert [int(parts[3]) for parts in lines] == [0] * 6, out


@pytest.mark.parametrize("port", ["esp32", "rp2"])
def test_analog_out_safe_drives_the_output_to_0_v_at_once(port):
    m = make_machine(port)
    kind = "dac" if port == "esp32" else "pwm"
    pin = 25 if port == "esp32" else 15
    if kind == "dac":
        out = m.DAC(m.Pin(pin))
    else:
        out = m.PWM(m.Pin(pin, m.Pin.OUT), freq=1000, duty_u16=0)
    drv = AnalogOut(out, validate(PARAMS, {"kind": kind, "v_at_0_pct": 2.0}, "a"))
    drv.apply(80.0, True)
    drv.poll(0)
    assert drv.code > 0
    drv.set_raw(100)  # a commissioning override must not survive the fail-safe
    drv.safe()
    assert drv.code == 0
    if kind == "dac":
        assert m.world.dac(pin).value == 0
    else:
        assert m.world.pwm(pin).duty_u16 == 0
