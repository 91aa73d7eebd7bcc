# The building management system's view of the controller: the register map
# behind the Modbus slave (drivers/modbus_slave.py), version 1 (docs/bms.md).
# App.slice calls answer() when the slave holds a request. Reads come from the
# running state; writes go through the console's own commands (`mode`, `out`,
# `season`), so they are validated exactly as a typed command is and refused
# while the console is locked. Loaded the first time a BMS asks something.
from core.compat import const
from core.config import MODES, SEASONS, ConfigError, check_param
from drivers.modbus_slave import (
    DEVICE_FAILURE,
    ILLEGAL_ADDRESS,
    ILLEGAL_FUNCTION,
    ILLEGAL_VALUE,
    READ_HOLDING,
    READ_INPUT,
)

MAP_VERSION = const(1)
INPUTS = const(7)  # IR0 version, IR1 state, IR2 flow, IR3 inlet, IR4 alarms, IR5 optimum, IR6 COP
HOLDINGS = const(3)  # HR0 mode, HR1 manual output, HR2 season
MISSING = const(0x8000)  # a signed register's "no value"
_COMMANDS = ("mode", "out", "season")  # HR0..HR2 as console commands
_PARAMS = ("mode", "manual_output_pct", "season")  # ... and the parameters they set


def answer(app, slave):
    function = slave.function
    first = slave.address
    count = slave.count
    size = INPUTS if function == READ_INPUT else HOLDINGS
    if first + count > size:
        slave.reply(ILLEGAL_ADDRESS)
        return
    if function == READ_INPUT or function == READ_HOLDING:
        regs = slave.regs
        for i in range(count):
            regs[i] = _input(app, first + i) if function == READ_INPUT else _holding(app, first + i)
        slave.reply(0)
        return
    slave.reply(_write(app, first, slave.values, count))


def _scaled(x, scale: int) -> int:
    """x * scale as a register: rounded, clamped to 0..65535."""
    if x is None:
        return 0
    v = int(x * scale + 0.5)
    return 0 if v < 0 else 65535 if v > 65535 else v


def _input(app, reg: int) -> int:
    c = app.controller
    cmd = c.cmd
    if reg == 0:
        return MAP_VERSION
    if reg == 1:
        return cmd.state  # 0 off, 1 manual, 2 auto, 3 standby, 4 safe (core.controller)
    if reg == 2:
        return _scaled(cmd.flow_pct, 10)
    if reg == 3:
        t = c.meas.t_in_c
        if t is None:
            return MISSING
        v = int(t * 100 + (0.5 if t >= 0 else -0.5))
        if v < -32767 or v > 32767:
            return MISSING
        return v & 0xFFFF  # two's complement
    if reg == 4:
        return cmd.alarms & 0xFFFF
    if reg == 5:
        return _scaled(cmd.p_opt_pct, 10)
    return _scaled(app.meter.cop, 1000)


def _holding(app, reg: int) -> int:
    p = app.controller.config["params"]
    if reg == 0:
        return MODES.index(p["mode"])
    if reg == 1:
        return _scaled(p["manual_output_pct"], 10)
    return SEASONS.index(p["season"])


def _write(app, first: int, values, count: int) -> int:
    """Apply HR writes through the console: an exception code, or 0. Every value
    is checked as its parameter before the first is applied, so a refused write
    changes nothing; the console then applies them (and refuses all while locked)."""
    texts = []
    try:
        for i in range(count):
            reg = first + i
            v = values[i]
            if reg == 1:
                text = "%d.%d" % (v // 10, v % 10)
            elif v > 2:
                return ILLEGAL_VALUE
            else:
                text = (MODES if reg == 0 else SEASONS)[v]
            check_param(_PARAMS[reg], text)
            texts.append(text)
        console = app.console
        for i in range(count):
            console.dispatch(_COMMANDS[first + i], [texts[i]])
    except ConfigError:
        return ILLEGAL_VALUE
    except Exception as exc:  # ConsoleError: its code says why
        code = getattr(exc, "code", "")
        if code == "E_LOCKED":
            return ILLEGAL_FUNCTION
        if code == "E_RANGE" or code == "E_VALUE":
            return ILLEGAL_VALUE
        return DEVICE_FAILURE
    return 0
