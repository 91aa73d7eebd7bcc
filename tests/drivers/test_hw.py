"""Hardware config against board profiles: what each board has, and clear errors."""

import pytest

import hw
from core.config import ConfigError
from host_tools import hwconfig
from twin_io import PROFILE

PROFILES = hwconfig.profiles()


def profile(name):
    return hwconfig.load_profile(name)


def test_both_profiles_ship_and_their_default_wiring_is_valid():
    assert set(PROFILES) == {"esp32-devkitc", "pico"}
    for name in PROFILES:
        plan = hw.plan(profile(name)["default_hw"], profile(name))
        assert plan["temperature"]["driver"] == "ds18b20"
        assert plan["flow"]["driver"] == ("pulse_pcnt" if name.startswith("esp32") else "pulse")
        assert plan["actuator"]["driver"] == "analog"
        pins = [p for s in ("temperature", "flow", "actuator") for p in plan[s]["pins"].values()]
        assert len(pins) == len(set(pins))


def test_profile_default_pins_are_usable_for_their_roles():
    """Every default pin a profile names passes the same checks a user's pin does."""
    for name in PROFILES:
        prof = profile(name)
        for section, drivers in hw.DRIVERS.items():
            for driver, (_, _, roles) in drivers.items():
                if hw._NEEDS.get(driver, "") not in prof["features"] + [""]:
                    continue  # the board lacks the peripheral: refused before any pin
                for role, kind, _ in roles:
                    pin = prof["pins"].get(f"{section}.{role}",
                                           prof["pins"].get(f"{driver}.{role}"))
                    assert pin is not None, f"{name}: no default for {section} {driver}.{role}"
                    bus = kind.split("_")[0]  # uart_tx -> uart, spi_sck -> spi
                    extra = ("dac" if prof["dac"] else "pwm") if kind == "analog" else \
                        prof["pins"].get(f"{section}.{bus}", prof["pins"].get(f"{driver}.{bus}"))
                    hw.check_pin(f"{section}.pins.{role}", pin, kind, prof, extra)


@pytest.mark.parametrize("name, config, key, words", [
    ("pico", {"actuator": {"driver": "analog", "params": {"kind": "dac"}}},
     "actuator.pins.out", "no DAC"),
    ("esp32-devkitc", {"actuator": {"driver": "analog", "params": {"kind": "dac"},
                                    "pins": {"out": 27}}}, "actuator.pins.out", "not a DAC pin"),
    ("esp32-devkitc", {"temperature": {"driver": "ntc", "pins": {"adc": 4}}},
     "temperature.pins.adc", "no usable ADC"),
    ("esp32-devkitc", {"actuator": {"driver": "valve_3point", "pins": {"open": 34}}},
     "actuator.pins.open", "input-only"),
    ("esp32-devkitc", {"temperature": {"driver": "ds18b20", "pins": {"onewire": 7}}},
     "temperature.pins.onewire", "not a usable GPIO"),
    ("pico", {"temperature": {"driver": "ds18b20"}, "flow": {"driver": "pulse",
                                                          "pins": {"pulse": 2}}},
     "flow.pins.pulse", "already temperature.pins.onewire"),
    ("pico", {"actuator": {"driver": "vfd", "pins": {"uart": 5}}},
     "actuator.pins.uart", "does not exist"),
    ("pico", {"actuator": {"driver": "vfd", "pins": {"tx": 2}}},
     "actuator.pins.tx", "cannot be UART0 TX"),
    ("pico", {"watchdog_s": 30}, "watchdog_s", "2..8"),
    ("pico", {"flow": {"driver": "pulse_pcnt"}}, "flow.driver", "needs the PCNT peripheral"),
    ("pico", {"temperature": {"driver": "max31865", "pins": {"sck": 5}}},
     "temperature.pins.sck", "cannot be SPI0 SCK"),
    ("pico", {"temperature": {"driver": "max31865", "pins": {"spi": 2}}},
     "temperature.pins.spi", "SPI 2 does not exist"),
    ("esp32-devkitc", {"temperature": {"driver": "max31865", "pins": {"mosi": 39}}},
     "temperature.pins.mosi", "input-only"),
    ("pico", {"temperature": {"driver": "max31865"}, "t_out": {"driver": "max31865"}},
     "t_out.pins.cs", "already temperature.pins.cs"),
    ("pico", {"flow": {"driver": "turbine"}}, "flow.driver", "not one of"),
    ("pico", {"flow": {"driver": "pulse", "params": {"k_factor_ppl": 0}}},
     "flow.params.k_factor_ppl", "out of range"),
    ("pico", {"flow": {"driver": "pulse", "params": {"kfactor": 1}}},
     "flow.params.kfactor", "unknown parameter"),
    ("pico", {"flow": {"driver": "pulse", "pins": {"input": 3}}}, "flow.pins.input",
     "unknown pin role"),
    ("pico", {"inputs": {"door": 4}}, "inputs.door", "unknown input"),
    ("pico", {"profile": "esp32-devkitc"}, "profile", "this board is 'pico'"),
    ("pico", {"fan": {}}, "fan", "unknown key"),
])
def test_wrong_pins_and_missing_peripherals_name_the_key(name, config, key, words):
    with pytest.raises(ConfigError) as err:
        hw.plan(config, profile(name))
    assert err.value.key == key
    assert words in str(err.value)


def test_driver_limits_are_checked_when_the_drivers_are_built(port):
    """Cross-field limits live in the drivers; the host check builds them on the
    profile's port's machine twin."""
    from host_tools.errors import CopflowError

    bad = {"flow": {"driver": "current_loop", "params": {"range_low": 5.0, "range_high": 1.0}}}
    with pytest.raises(CopflowError, match="flow.params.range_low"):
        hwconfig.check(bad, PROFILE[port])
    hwconfig.check({"flow": {"driver": "current_loop"}}, PROFILE[port])


def test_metering_sections_take_their_own_default_pins():
    plan = hw.plan({"temperature": {"driver": "ds18b20"}, "t_out": {"driver": "ds18b20"},
                    "unit_power": {"driver": "s0"}, "pump_power": {"driver": "s0"}},
                   profile("pico"))
    assert plan["t_out"]["pins"] == {"onewire": 7}
    assert plan["unit_power"]["pins"] == {"pulse": 8}
    assert plan["pump_power"]["pins"] == {"pulse": 9}


def test_two_ds18b20_share_a_bus_only_when_each_has_a_rom():
    shared = {"pins": {"onewire": 2}}
    with pytest.raises(ConfigError, match="need a rom each"):
        hw.plan({"temperature": {"driver": "ds18b20"},
                 "t_out": {"driver": "ds18b20", **shared}}, profile("pico"))
    plan = hw.plan({"temperature": {"driver": "ds18b20", "rom": "28" + "00" * 6 + "AB"},
                    "t_out": {"driver": "ds18b20", "rom": "28" + "11" * 6 + "CD", **shared}},
                   profile("pico"))
    assert plan["temperature"]["pins"] == plan["t_out"]["pins"] == {"onewire": 2}


def test_two_max31865_share_the_spi_bus_with_their_own_chip_selects():
    plan = hw.plan({"temperature": {"driver": "max31865"},
                    "t_out": {"driver": "max31865", "pins": {"cs": 13}}}, profile("pico"))
    assert plan["t_out"]["pins"]["sck"] == plan["temperature"]["pins"]["sck"] == 18
    assert plan["t_out"]["pins"]["cs"] == 13


def test_overrides_inputs_and_watchdog():
    plan = hw.plan({"temperature": {"driver": "ntc", "pins": {"adc": 28}},
                    "inputs": {"unit_running": True, "unit_heating": 14, "active_low": False},
                    "watchdog_s": 0}, profile("pico"))
    assert plan["temperature"]["pins"] == {"adc": 28}
    assert plan["flow"] is None and plan["actuator"] is None
    assert plan["inputs"] == {"unit_running": 20, "unit_heating": 14}
    assert plan["active_low"] is False and plan["watchdog_s"] == 0


def test_a_missing_hw_file_means_the_default_wiring(tmp_path):
    prof = profile("pico")
    assert hw.load_config(prof, str(tmp_path / "hw.json")) == prof["default_hw"]
    corrupt = tmp_path / "bad.json"
    corrupt.write_text("{ not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        hw.load_config(prof, str(corrupt))
