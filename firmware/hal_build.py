# Building the drivers a hardware plan names (hal_board.build_drivers, at boot):
# code a running board never needs again, so it is loaded for the build and
# dropped (docs/performance.md, "Memory").
from core import alarms
from core.config import ConfigError


def _build(section, io, buses):
    """The driver object for one hw.plan() section. `buses` keeps one object per
    1-Wire pin and per SPI bus, so devices on one bus share it."""
    module = __import__(section["module"], None, None, [section["cls"]])
    cls = getattr(module, section["cls"])
    pins = section["pins"]
    params = section["params"]
    driver = section["driver"]
    if driver == "ds18b20":
        pin = pins["onewire"]
        if pin not in buses:
            buses[pin] = io.onewire(pin)
        return cls(buses[pin], params, rom=section.get("rom"))
    if driver == "max31865":
        key = "spi%d" % pins["spi"]
        if key not in buses:
            buses[key] = io.spi(pins["spi"], pins["sck"], pins["mosi"], pins["miso"])
        return cls(buses[key], io.pin_out(pins["cs"], 1), params)
    if driver in ("ntc", "current_loop"):
        return cls(io.adc(pins["adc"]), params, section["adc_mv"])
    if driver == "pulse":
        return cls(io.pin_in(pins["pulse"], section["pull_up"]), io.ticks_us, params,
                   hard_irq=section["hard_irq"])
    if driver == "pulse_pcnt":
        return cls(io.flow_pcnt(pins["pulse"], params, section["pcnt_unit"]), params)
    if driver == "s0_pcnt":
        return cls(io.flow_pcnt(pins["pulse"], params, section["pcnt_unit"]), params,
                   noise_bit=alarms.METER_FAULT)
    if driver == "s0":
        return cls(io.pin_in(pins["pulse"], section["pull_up"]), io.ticks_us, params,
                   noise_bit=alarms.METER_FAULT, hard_irq=section["hard_irq"])
    if driver == "analog":
        out = pins["out"]
        run = pins.get("run")
        run = None if run is None else io.pin_out(run, 0)
        if params["kind"] == "dac":
            return cls(io.dac(out), params, run)
        return cls(io.pwm(out, params["pwm_freq_hz"]), params, run)
    if driver == "valve_3point":
        off = 0 if params["active"] == "high" else 1
        return cls(io.pin_out(pins["open"], off), io.pin_out(pins["close"], off), params)
    # vfd, and the BMS's Modbus slave: a UART and an optional RS-485 DE pin
    de = pins.get("de")
    return cls(io.uart(pins["uart"], pins["tx"], pins["rx"]), params,
               de=None if de is None else io.pin_out(de, 0),
               sleep_us=getattr(io, "sleep_us", None))


def _pins_text(pins) -> str:
    return ", ".join("%s %s" % (role, pins[role]) for role in sorted(pins))


def build_drivers(plan, io) -> dict:
    """section name -> driver for the sections a hw.plan() configures. Drivers
    check their cross-field limits here (ConfigError naming the section); any
    other error of a build (machine refusing a pin or an argument: TypeError,
    ValueError, OSError) is a ConfigError naming the section too."""
    out = {}
    buses = {}
    for name in plan["sections"]:
        section = plan[name]
        if not section:
            continue
        try:
            out[name] = _build(section, io, buses)
        except ConfigError as exc:
            where = ".params." if exc.key in section["params"] else "."
            raise ConfigError(name + where + exc.key, str(exc)[len(exc.key) + 2:])
        except MemoryError:
            raise  # not the wiring's fault: the boot's own handling applies
        except Exception as exc:
            raise ConfigError(name, "%s driver on %s: %s: %s"
                              % (section["driver"], _pins_text(section["pins"]),
                                 type(exc).__name__, exc))
    return out
