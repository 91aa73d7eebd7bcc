# The building management system's view of the controller: the register map
# behind the Modbus slave (drivers/modbus_slave.py), version 1 (docs/bms.md).
# App.slice calls answer() when the slave holds a request. Reads come from the
# running state; writes set the same parameters as the console's `mode`, `out`
# and `season`, through the same whole-config validation, and are refused while
# the console is locked. Loaded the first time a BMS asks something.
from core.compat import const
from core.config import MODES, SEASONS, ConfigError
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
_PARAMS = ("mode", "manual_output_pct", "season")  # HR0..HR2


def answer(app, slave):
    try:
        _answer(app, slave)
    except Exception:  # MemoryError, or a bug: the BMS hears it, the loop goes on
        if slave.function:
            slave.reply(DEVICE_FAILURE)


def _answer(app, slave):
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
    """Apply HR writes as one config change, validated as a whole exactly as a
    console `set` is (nothing changes unless all of it is valid): an exception
    code, or 0. Refused while the console is locked."""
    if app.console.locked:
        return ILLEGAL_FUNCTION
    controller = app.controller
    params = dict(controller.config["params"])
    for i in range(count):
        reg = first + i
        v = values[i]
        if reg == 1:
            params[_PARAMS[1]] = v / 10.0
        elif v > 2:
            return ILLEGAL_VALUE
        else:
            params[_PARAMS[reg]] = (MODES if reg == 0 else SEASONS)[v]
    try:
        controller.apply_config({"params": params, "coeffs": controller.config["coeffs"]})
    except ConfigError:
        return ILLEGAL_VALUE
    app.config_changed()
    return 0
