"""The drivers' on-demand construction modules (drivers/*_setup.py) repeat a
few const() values of their driver (a const() with a leading underscore is no
module attribute on MicroPython, so they cannot be imported): they must agree,
and they must be built as on-demand modules (strings not interned)."""

from drivers import pcnt_setup, pulse_flow_esp32
from host_tools.fwbuild import ON_DEMAND

SETUP_MODULES = ("drivers/analog_setup.py", "drivers/pcnt_setup.py", "drivers/ds18b20_setup.py",
                 "drivers/pulse_setup.py")


def test_pcnt_setup_constants_match_the_driver():
    for name in ("_COUNT_PERIOD", "_INCREMENT", "_IGNORE", "_SPAN_CAP"):
        assert getattr(pcnt_setup, name) == getattr(pulse_flow_esp32, name), name


def test_setup_modules_are_on_demand():
    for rel in SETUP_MODULES:
        assert rel in ON_DEMAND, rel


# Each driver built with good and with bad params on the host MicroPython: the
# same errors as on CPython, and no *_setup module left in sys.modules.
PROBE = """
import sys
from core.config import ConfigError
from drivers import params as dparams
from drivers import analog_out, ds18b20, pulse_flow, pulse_flow_esp32


class Out:
    def freq(self, f):
        pass

    def duty_u16(self, c):
        pass


class Pcnt:
    INCREMENT = 1
    IGNORE = 0

    def start(self):
        pass

    def value(self):
        return 0


class Bus:
    def crc8(self, data):
        return 0


class Pin:
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def irq(self, handler=None, trigger=0, hard=False):
        pass


def ticks_us():
    return 0


def build(name, make, module, **given):
    params = dparams.validate(module.PARAMS, given, "x")
    try:
        make(params)
        result = "ok"
    except ConfigError as e:
        result = str(e)
    left = [m for m in sys.modules if m.endswith("_setup")]
    print("%s|%s|%s" % (name, result, left))


build("analog", lambda p: analog_out.AnalogOut(Out(), p), analog_out)
build("analog_span", lambda p: analog_out.AnalogOut(Out(), p), analog_out, v_at_100_pct=0.5)
build("analog_cal", lambda p: analog_out.AnalogOut(Out(), p), analog_out,
      calibration="two_point", cal_v_b=1.0)
build("pcnt", lambda p: pulse_flow_esp32.PulseFlowPcnt(Pcnt(), p), pulse_flow_esp32)
build("pcnt_fast", lambda p: pulse_flow_esp32.PulseFlowPcnt(Pcnt(), p), pulse_flow_esp32,
      k_factor_ppl=100.0, max_flow_m3h=100000.0)
build("ds_rom", lambda p: ds18b20.DS18B20(Bus(), p, rom="2800000000000000"), ds18b20)
build("ds_bad_rom", lambda p: ds18b20.DS18B20(Bus(), p, rom="28zz"), ds18b20)
build("pulse", lambda p: pulse_flow.PulseFlow(Pin(), ticks_us, p), pulse_flow)
build("pulse_glitch", lambda p: pulse_flow.PulseFlow(Pin(), ticks_us, p), pulse_flow,
      glitch_us=500000)
build("pulse_soft", lambda p: pulse_flow.PulseFlow(Pin(), ticks_us, p, hard_irq=False),
      pulse_flow)
"""


def test_setup_modules_are_dropped_on_micropython(tmp_path, capsys):
    from mp_probe import run_probe

    out = run_probe(tmp_path, PROBE)
    rows = {line.split("|")[0]: line.split("|")[1:] for line in out.splitlines() if "|" in line}
    exec(compile(PROBE, "probe", "exec"), {"__name__": "probe"})  # the same on CPython
    lines = capsys.readouterr().out.splitlines()
    cpython = {line.split("|")[0]: line.split("|")[1] for line in lines if "|" in line}
    assert set(rows) == set(cpython) and len(rows) == 10
    for name, (result, left) in rows.items():
        assert left == "[]", name
        assert result == cpython[name], name
        assert (result == "ok") == (name in ("analog", "pcnt", "ds_rom", "pulse")), (name, result)
