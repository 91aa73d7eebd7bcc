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
