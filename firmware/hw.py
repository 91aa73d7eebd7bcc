# The installation's hardware: which drivers read the sensors and drive the
# actuator, on which pins, checked against the board profile (boards/*.json:
# what the board has) before anything touches a pin. A bad /hw.json or a pin
# the board does not have is a ConfigError naming the key, shown on the
# console at boot (docs/drivers.md, docs/wiring.md).
import json

from core.config import ConfigError
from drivers.params import validate as validate_params

HW_FILE = "/hw.json"
PROFILE_DIR = "/boards"

# section -> driver name -> (module, class, ((role, kind, required), ...)).
# Pin kinds: in (digital input), out (digital output), io (open-drain 1-Wire),
# adc, analog (DAC pin, or any output pin for PWM), uart / spi (a bus id) and
# that bus's pins (uart_tx, uart_rx; spi_sck, spi_mosi, spi_miso).
DRIVERS = {
    "temperature": {
        "ds18b20": ("drivers.ds18b20", "DS18B20", (("onewire", "io", True),)),
        "ntc": ("drivers.ntc", "NTC", (("adc", "adc", True),)),
        "max31865": ("drivers.max31865", "MAX31865",
                     (("spi", "spi", True), ("sck", "spi_sck", True), ("mosi", "spi_mosi", True),
                      ("miso", "spi_miso", True), ("cs", "out", True))),
    },
    "flow": {
        "pulse": ("drivers.pulse_flow", "PulseFlow", (("pulse", "in", True),)),
        "pulse_pcnt": ("drivers.pulse_flow_esp32", "PulseFlowPcnt", (("pulse", "in", True),)),
        "current_loop": ("drivers.current_loop", "CurrentLoop", (("adc", "adc", True),)),
    },
    "actuator": {
        "analog": ("drivers.analog_out", "AnalogOut", (("out", "analog", True),
                                                        ("run", "out", False))),
        "valve_3point": ("drivers.valve_3point", "Valve3Point",
                         (("open", "out", True), ("close", "out", True))),
        "vfd": ("drivers.vfd", "Vfd", (("uart", "uart", True), ("tx", "uart_tx", True),
                                       ("rx", "uart_rx", True), ("de", "out", False))),
    },
}
# Metering (measured COP_s): the loop's outlet temperature and S0 energy
# meters on the unit and the pump. They do not take part in control.
DRIVERS["t_out"] = DRIVERS["temperature"]
_S0 = {"s0": ("drivers.s0_meter", "S0Meter", (("pulse", "in", True),)),
       "s0_pcnt": ("drivers.s0_pcnt", "S0MeterPcnt", (("pulse", "in", True),))}
DRIVERS["unit_power"] = _S0
DRIVERS["pump_power"] = _S0
# The building management system's Modbus RTU port (docs/bms.md): this board
# is the slave there. Off unless /hw.json has a "bms" section.
DRIVERS["bms"] = {"modbus": ("drivers.modbus_slave", "ModbusSlave",
                             (("uart", "uart", True), ("tx", "uart_tx", True),
                              ("rx", "uart_rx", True), ("de", "out", False)))}
SECTIONS = ("temperature", "flow", "actuator", "t_out", "unit_power", "pump_power", "bms")
INPUTS = ("unit_running", "unit_heating")
_TOP_KEYS = ("profile",) + SECTIONS + ("inputs", "watchdog_s", "external_pull_ups")
# bus kind -> profile key; bus pin kind -> (bus role, name in the profile's pin lists)
_BUSES = {"uart": "uarts", "spi": "spis"}
_BUS_PINS = {"uart_tx": ("uart", "tx"), "uart_rx": ("uart", "rx"), "spi_sck": ("spi", "sck"),
             "spi_mosi": ("spi", "mosi"), "spi_miso": ("spi", "miso")}
_OUTPUT_KINDS = ("out", "io", "uart_tx", "spi_sck", "spi_mosi")
# Drivers that need a peripheral only some boards have (profile "features").
_NEEDS = {"pulse_pcnt": "pcnt", "s0_pcnt": "pcnt"}
# Drivers that time pulses in a pin interrupt handler: they need hard IRQs
# (the handler runs at the edge). ESP32 pin IRQs are always soft (scheduled,
# a queue of 8 shared by everything: late, and lost when it overflows), so
# there the PCNT variant counts in hardware (docs/drivers.md).
_HARD_IRQ = {"pulse": "pulse_pcnt", "s0": "s0_pcnt"}
# Driver roles whose wiring relies on a pull-up at the pin (open collector,
# S0, reed contact). The unit contacts in "inputs" need one too.
_PULLED_UP = ("pulse", "pulse_pcnt", "s0", "s0_pcnt")
# Driver roles whose line idles high from power-up (the converter's /CS):
# allowed on a strapping pin that must be high at reset, no other role is.
_IDLE_HIGH = ("max31865.cs",)
# ADC drivers get the port's linear window (profile "adc_linear_mv").
_ADC_DRIVERS = ("ntc", "current_loop")


def load_json(path: str, what: str):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError:
        raise ConfigError(what, "cannot read %s" % path)
    except ValueError:
        raise ConfigError(what, "%s is not valid JSON" % path)


def load_profile(name: str, folder: str = PROFILE_DIR) -> dict:
    if not isinstance(name, str) or not name or "/" in name or "." in name:
        raise ConfigError("profile", "bad profile name %r" % (name,))
    profile = load_json("%s/%s.json" % (folder, name), "profile")
    if not isinstance(profile, dict) or profile.get("name") != name:
        raise ConfigError("profile", "%s/%s.json is not the %s profile" % (folder, name, name))
    return profile


def load_config(profile: dict, path: str = HW_FILE) -> dict:
    """The installation's /hw.json, or the profile's default wiring if there is none."""
    try:
        with open(path) as f:
            f.read(1)
    except OSError:
        return profile["default_hw"]
    return load_json(path, "hw")


def _pin_error(key, pin, why, profile):
    return ConfigError(key, "GPIO %r %s on %s" % (pin, why, profile["name"]))


def check_pin(key: str, pin, kind: str, profile: dict, extra=None):
    """Raise ConfigError unless `pin` can do `kind` on this board; `extra` is the
    analog kind (dac/pwm) or, for a bus pin, the bus id."""
    if kind in _BUSES:
        buses = profile[_BUSES[kind]]
        if str(pin) not in buses:
            raise ConfigError(key, "%s %r does not exist on %s (has %s)"
                              % (kind.upper(), pin, profile["name"], ", ".join(sorted(buses))))
        return
    if isinstance(pin, bool) or not isinstance(pin, int):
        raise ConfigError(key, "expected a GPIO number, got %r" % (pin,))
    if pin not in profile["gpio"]:
        raise _pin_error(key, pin, "is not a usable GPIO", profile)
    if kind in _OUTPUT_KINDS and pin in profile["input_only"]:
        raise _pin_error(key, pin, "is input-only", profile)
    if kind == "adc" and pin not in profile["adc"]:
        raise _pin_error(key, pin, "has no usable ADC (ADC pins: %s)"
                         % ", ".join(str(p) for p in profile["adc"]), profile)
    if kind == "analog":
        if extra == "dac":
            if not profile["dac"]:
                raise ConfigError(key, "%s has no DAC: use kind pwm with an RC filter"
                                  % profile["name"])
            if pin not in profile["dac"]:
                raise _pin_error(key, pin, "is not a DAC pin (DAC pins: %s)"
                                 % ", ".join(str(p) for p in profile["dac"]), profile)
        elif pin in profile["input_only"]:
            raise _pin_error(key, pin, "is input-only", profile)
    if kind in _BUS_PINS:
        bus, signal = _BUS_PINS[kind]
        allowed = profile[_BUSES[bus]][str(extra)]
        if isinstance(allowed, dict):
            pins = allowed[signal]
            if pin not in pins:
                raise _pin_error(key, pin, "cannot be %s%s %s (allowed: %s)"
                                 % (bus.upper(), extra, signal.upper(),
                                    ", ".join(str(p) for p in pins)), profile)


def _check_wiring(key: str, pin: int, who: str, pulled_up: bool, profile: dict, ext):
    """Strapping pins and input-only pins (boards/*.json "strapping", "input_only").
    who: "driver.role" or "inputs"; pulled_up: the role needs a pull-up at the pin."""
    strap = profile["strapping"].get(str(pin))
    if strap is not None and not (strap[0] == "high" and who in _IDLE_HIGH):
        raise _pin_error(key, pin, "is a strapping pin (%s); pick another pin"
                         % strap[1], profile)
    if pulled_up and pin in profile["input_only"] and pin not in ext:
        raise _pin_error(key, pin, "is input-only with no internal pull-up: the input "
                         "would float; fit a pull-up to 3.3 V and list %d in "
                         "external_pull_ups, or pick another pin" % pin, profile)


def _section(name: str, spec, profile: dict, used: dict, ext=()) -> dict:
    if not isinstance(spec, dict):
        raise ConfigError(name, "expected an object with driver, params, pins")
    driver = spec.get("driver")
    if not isinstance(driver, str):
        driver = "%r" % (driver,)  # named in the error below
    keys = ("driver", "params", "pins", "rom") if driver == "ds18b20" else \
        ("driver", "params", "pins")
    for key in spec:
        if key not in keys:
            raise ConfigError("%s.%s" % (name, key), "unknown key (%s)" % ", ".join(keys))
    drivers = DRIVERS[name]
    if driver not in drivers:
        raise ConfigError(name + ".driver", "%s is not one of %s"
                          % (driver, "|".join(sorted(drivers))))
    need = _NEEDS.get(driver)
    if need and need not in profile["features"]:
        raise ConfigError(name + ".driver", "%s needs the %s peripheral, which %s does not "
                          "have" % (driver, need.upper(), profile["name"]))
    if driver in _HARD_IRQ and not profile["hard_irq"]:
        raise ConfigError(name + ".driver", "%s times pulses in pin interrupts, which are "
                          "soft on %s (late, and lost when the queue overflows): use %s"
                          % (driver, profile["name"], _HARD_IRQ[driver]))
    module_name, class_name, roles = drivers[driver]
    module = __import__(module_name, None, None, [class_name])
    given = spec.get("params", {})
    board = profile.get("params", {}).get(driver)
    if board and isinstance(given, dict):
        # The board's own defaults (divider and shunt values that fit its ADC).
        merged = {}
        for key in board:
            merged[key] = board[key]
        for key in given:
            merged[key] = given[key]
        given = merged
    params = validate_params(module.PARAMS, given, name + ".params")
    given = spec.get("pins", {})
    if not isinstance(given, dict):
        raise ConfigError(name + ".pins", "expected an object of role: GPIO")
    role_names = [r[0] for r in roles]
    for role in given:
        if role not in role_names:
            raise ConfigError("%s.pins.%s" % (name, role), "unknown pin role for %s (%s)"
                              % (driver, ", ".join(role_names)))
    pins = {}
    for role, kind, required in roles:
        key = "%s.pins.%s" % (name, role)
        defaults = profile["pins"]
        pin = given.get(role, defaults.get("%s.%s" % (name, role),
                                           defaults.get("%s.%s" % (driver, role))))
        if pin is None:
            if required:
                raise ConfigError(key, "no pin given and %s has no default" % profile["name"])
            continue
        if kind == "analog":
            extra = params.get("kind")
        elif kind in _BUS_PINS:
            extra = pins.get(_BUS_PINS[kind][0])
        else:
            extra = None
        check_pin(key, pin, kind, profile, extra)
        if kind not in _BUSES:
            _check_wiring(key, pin, "%s.%s" % (driver, role), driver in _PULLED_UP, profile, ext)
        if kind in _BUSES:
            pins[role] = pin
            continue
        # Buses may be shared: 1-Wire sensors addressed by ROM, SPI devices on
        # the same bus (each with its own chip select).
        share = ""
        if kind == "io" and "rom" in spec:
            share = "onewire"
        elif kind in _BUS_PINS and kind.startswith("spi"):
            share = "spi%s.%s" % (extra, kind)
        if pin in used and not (share and used[pin][1] == share):
            raise ConfigError(key, "GPIO %d is already %s%s" % (
                pin, used[pin][0], " (sensors on one 1-Wire bus need a rom each)"
                if kind == "io" else ""))
        used[pin] = ("%s.pins.%s" % (name, role), share)
        pins[role] = pin
    out = {"driver": driver, "module": module_name, "cls": class_name, "params": params,
           "pins": pins}
    if driver in _PULLED_UP:
        out["pull_up"] = pins["pulse"] not in ext  # False: the wiring has its own
    if driver in _HARD_IRQ:
        out["hard_irq"] = profile["hard_irq"]  # True here: refused above otherwise
    if driver in _ADC_DRIVERS:
        out["adc_mv"] = profile["adc_linear_mv"]
    if "rom" in spec:
        rom = spec["rom"]
        if not isinstance(rom, str):
            raise ConfigError(name + ".rom", "expected 16 hex digits, got %r" % (rom,))
        out["rom"] = rom  # checked (hex, CRC, family) by the driver when it is built
    return out


def plan(config, profile: dict) -> dict:
    """The checked hardware plan: drivers with complete params and pins, inputs,
    watchdog. Raises ConfigError naming the first problem."""
    if not isinstance(config, dict):
        raise ConfigError("hw", "expected an object")
    for key in config:
        if key not in _TOP_KEYS:
            raise ConfigError(key, "unknown key (%s)" % ", ".join(_TOP_KEYS))
    if config.get("profile", profile["name"]) != profile["name"]:
        raise ConfigError("profile", "hw config is for %r but this board is %r"
                          % (config["profile"], profile["name"]))
    ext = config.get("external_pull_ups", [])
    if not isinstance(ext, list) or [p for p in ext if isinstance(p, bool)
                                     or not isinstance(p, int)]:
        raise ConfigError("external_pull_ups", "expected a list of GPIO numbers")
    used = {}
    out = {"profile": profile["name"], "sections": SECTIONS, "inputs": {}, "active_low": True}
    units = 0
    for name in SECTIONS:
        section = _section(name, config[name], profile, used, ext) if name in config else None
        if section is not None and _NEEDS.get(section["driver"]) == "pcnt":
            # One PCNT unit per counting section, in section order.
            if units >= profile["pcnt_units"]:
                raise ConfigError(name + ".driver", "%s has only %d PCNT units"
                                  % (profile["name"], profile["pcnt_units"]))
            section["pcnt_unit"] = units
            units += 1
        out[name] = section
    inputs = config.get("inputs", {})
    if not isinstance(inputs, dict):
        raise ConfigError("inputs", "expected an object")
    for key in inputs:
        value = inputs[key]
        if key == "active_low":
            if not isinstance(value, bool):
                raise ConfigError("inputs.active_low", "expected true or false")
            out["active_low"] = value
            continue
        if key not in INPUTS:
            raise ConfigError("inputs." + key, "unknown input (%s, active_low)"
                              % ", ".join(INPUTS))
        pin = profile["pins"].get("inputs." + key) if value is True else value
        if value is False:
            continue
        check_pin("inputs." + key, pin, "in", profile)
        # Active low: a contact to GND on the internal pull-up (hal_board).
        _check_wiring("inputs." + key, pin, "inputs", inputs.get("active_low", True) is True,
                      profile, ext)
        if pin in used:
            raise ConfigError("inputs." + key, "GPIO %d is already %s" % (pin, used[pin][0]))
        used[pin] = ("inputs." + key, False)
        out["inputs"][key] = pin
    wd = config.get("watchdog_s", 8)
    limit = profile["watchdog_max_s"]
    if isinstance(wd, bool) or not isinstance(wd, int) or not (wd == 0 or 2 <= wd <= limit):
        raise ConfigError("watchdog_s", "%r: expected 0 (off) or 2..%d s on %s"
                          % (wd, limit, profile["name"]))
    out["watchdog_s"] = wd
    return out
