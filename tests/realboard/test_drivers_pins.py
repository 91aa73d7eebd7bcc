"""Issue 11 item 8: the pin checker knows the ESP32's strapping pins and its
input-only pins without pull-ups (board profile data), on the board (hw.plan)
and on the PC (host_tools.hwconfig)."""

import pytest

import hw
from core.config import ConfigError
from host_tools import hwconfig
from host_tools.errors import CopflowError
from host_tools.twins import make_machine


def esp32():
    return hwconfig.load_profile("esp32-devkitc")


def plan(config, profile=None):
    return hw.plan(config, profile or esp32())


@pytest.mark.parametrize(("config", "key", "why"), [
    # GPIO12 (MTDI) pulled high at power-up selects 1.8 V flash: no boot.
    ({"actuator": {"driver": "valve_3point", "pins": {"open": 12}}},
     "actuator.pins.open", "1.8 V flash"),
    # A closed contact on GPIO0 at power-up starts the ROM download mode.
    ({"inputs": {"unit_running": 0}}, "inputs.unit_running", "download mode"),
    ({"flow": {"driver": "pulse_pcnt", "pins": {"pulse": 2}}}, "flow.pins.pulse", "strapping"),
    ({"actuator": {"driver": "vfd", "pins": {"de": 15}}}, "actuator.pins.de", "strapping"),
    ({"temperature": {"driver": "ds18b20", "pins": {"onewire": 5}}},
     "temperature.pins.onewire", "strapping"),
    # A chip select idles high, but GPIO12 must be low at power-up.
    ({"temperature": {"driver": "max31865", "pins": {"cs": 12}}},
     "temperature.pins.cs", "1.8 V flash"),
])
def test_strapping_pins_are_refused_with_the_reason(config, key, why):
    with pytest.raises(ConfigError, match=key + ".*" + why):
        plan(config)
    with pytest.raises(CopflowError, match=key):
        hwconfig.check(config, "esp32-devkitc")


def test_a_chip_select_may_sit_on_a_strapping_pin_that_wants_high_at_reset():
    # The profile's own default: MAX31865 /CS on GPIO5 (idles high, as GPIO5 must).
    p = plan({"temperature": {"driver": "max31865"}})
    assert p["temperature"]["pins"]["cs"] == 5


@pytest.mark.parametrize(("config", "key"), [
    ({"inputs": {"unit_running": 34}}, "inputs.unit_running"),
    ({"inputs": {"unit_heating": 39}}, "inputs.unit_heating"),
    ({"flow": {"driver": "pulse_pcnt", "pins": {"pulse": 35}}}, "flow.pins.pulse"),
    ({"unit_power": {"driver": "s0_pcnt", "pins": {"pulse": 36}}}, "unit_power.pins.pulse"),
])
def test_input_only_pins_are_refused_where_a_pull_up_is_needed(config, key):
    with pytest.raises(ConfigError, match=key + ".*input-only with no internal pull-up"):
        plan(config)
    with pytest.raises(CopflowError, match=key):
        hwconfig.check(config, "esp32-devkitc")


def test_the_refusal_is_real_the_port_ignores_the_pull_up_and_the_contact_floats():
    m = make_machine("esp32")
    m.Pin(34, m.Pin.IN, m.Pin.PULL_UP)  # accepted by the port without complaint...
    assert m.world.pull(34) is None  # ...and no pull-up is there


def test_an_external_pull_up_declared_in_the_wiring_makes_the_pin_usable():
    config = {"inputs": {"unit_running": 34},
              "flow": {"driver": "pulse_pcnt", "pins": {"pulse": 35}},
              "external_pull_ups": [34, 35]}
    p = plan(config)
    assert p["inputs"]["unit_running"] == 34 and p["flow"]["pins"]["pulse"] == 35
    assert p["flow"]["pull_up"] is False
    with pytest.raises(ConfigError, match="external_pull_ups"):
        plan({"external_pull_ups": [True]})


def test_input_only_pins_still_serve_roles_without_a_pull_up():
    # ADC inputs and SPI MISO need no pull-up: the profile's defaults use them.
    p = plan({"temperature": {"driver": "ntc"}, "flow": {"driver": "current_loop"},
              "t_out": {"driver": "max31865"}})
    assert p["temperature"]["pins"]["adc"] == 34 and p["t_out"]["pins"]["miso"] == 36


def test_both_profiles_default_pins_pass_the_new_checks():
    for name in hwconfig.profiles():
        prof = hwconfig.load_profile(name)
        hw.plan(prof["default_hw"], prof)
        # every section with its own defaults, one at a time
        for section, drivers in hw.DRIVERS.items():
            for driver in drivers:
                try:
                    hw.plan({section: {"driver": driver}}, prof)
                except ConfigError as exc:  # only a peripheral or IRQ kind the board lacks
                    assert "needs the" in str(exc) or "soft" in str(exc), (name, exc)


def test_wiring_doc_flags_strapping_and_input_only_pins_as_the_profiles_say():
    import re

    from host_tools.paths import PROJECT_ROOT

    current = None
    seen = 0
    for line in (PROJECT_ROOT / "docs" / "wiring.md").read_text().splitlines():
        heading = re.match(r"^## .*\(`(?P<name>[a-z0-9-]+)`\)", line)
        if heading:
            current = hwconfig.load_profile(heading["name"])
            continue
        row = re.match(r"^\| [^|]*\(`[a-z_0-9]+\.[a-z_0-9]+`\) \| (\d+) \| ([^|]*) \|", line)
        if row and current is not None:
            gpio, header = int(row[1]), row[2]
            assert ("⚠" in header) == (str(gpio) in current["strapping"]), line
            assert ("◇" in header) == (gpio in current["input_only"]), line
            assert header.strip().strip("⚠◇ "), line  # a header pin number is given
            seen += 1
    assert seen >= 40


def test_an_active_high_input_needs_no_pull_up_and_may_use_an_input_only_pin():
    # active_low false: the contact drives the pin (no internal pull-up used).
    p = plan({"inputs": {"unit_running": 34, "active_low": False}})
    assert p["inputs"]["unit_running"] == 34
