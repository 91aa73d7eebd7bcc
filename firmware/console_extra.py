# Console commands used now and then (docs/protocol.md): alarms, telemetry
# settings, heap figures, the PIN lock, starting and stopping HIL, the on-line
# optimiser (coefficient sets: console_coeffs.py). console.py imports this
# module for one request and drops it again, so its code and texts take no
# heap between requests (docs/performance.md, "Memory").
import json

from console import ConsoleError, _alnum, _parse_number, fmt
from core import alarms
from core.compat import as_number, unload


def cmd_mem(console, args):
    # Reports what the serve loop measured: collecting here would run the
    # collector inside a deep frame (docs/micropython-host.md).
    import gc

    app = console.app
    h = app.heap
    free = alloc = -1  # CPython (console tests) has no heap figures
    if hasattr(gc, "mem_free"):
        free = gc.mem_free()
        alloc = gc.mem_alloc()
    port = console.port  # the HAL's console (stdio_console), or None in tests
    return "free=%d alloc=%d collections=%d gc_max_us=%d live_first=%d live_last=%d " \
           "live_max=%d periods=%d overruns=%d skipped=%d dropped=%d lost=%d" % (
               free, alloc, h.collections, h.max_pause_us, h.live_first, h.live_last,
               h.live_max, _periods(app), app.overruns(), app.skipped(), console.dropped,
               getattr(port, "tx_lost", 0))


def _periods(app):
    loop = getattr(app, "loop", None)  # the console tests' FakeApp has none
    return -1 if loop is None else loop.periods


# ---- the running config across a break into the REPL --------------------------
# app.App.interrupt writes it (after the outputs went safe); the next boot's
# boot_config.resumed applies it once and removes it. Its own file, in the store's
# format (a torn write is detected): the saved config is never written here.
def keep(app):
    import store
    from core import learned

    cfg = app.controller.config
    body = json.dumps({"format": store.FORMAT, "config": {
        "params": cfg["params"], "coeffs": learned.coeffs_to_save(app.controller),
        "pin": app.pin}}).encode()
    try:
        with open(store.resume_path(app._folder), "wb") as f:
            f.write(body)
            f.write(b"\nsha256 ")
            f.write(store._digest(body).encode())
            f.write(b"\n")
    except OSError:
        pass  # a full or read-only flash: the next boot has the saved config


def cmd_tel(console, args):
    if args == ["on"]:
        console.tel_on = True
    elif args == ["off"]:
        console.tel_on = False
    elif len(args) == 2 and args[0] == "period":
        value = _parse_number(args[1])
        if not 100 <= value <= 3600000 or value != int(value):
            raise ConsoleError("E_RANGE", "period %s: allowed 100..3600000 ms" % args[1])
        console.tel_period_ms = int(value)
    else:
        raise ConsoleError("E_SYNTAX", "usage: tel on|off | tel period MS")
    return "tel=%s period_ms=%d" % ("on" if console.tel_on else "off", console.tel_period_ms)


def cmd_alarms(console, args):
    app = console.app
    active = app.controller.cmd.alarms
    latched = app.latched_alarms
    words = []
    for bit, name in alarms.NAMES:
        if (active | latched) & bit:
            words.append(alarms.code(bit) + ":" + name)
    return "active=%x latched=%x names=%s" % (active, latched, ",".join(words) or "-")


def cmd_ack(console, args):
    app = console.app
    # A watchdog reset is reported until someone has seen it.
    app.controller.sticky_alarms &= ~alarms.WDT_RESET
    app.latched_alarms &= app.controller.cmd.alarms & ~alarms.WDT_RESET
    # A tripped drive restarts only on someone's word (drivers/vfd.py reset()): this.
    reset = getattr(getattr(getattr(app, "hal", None), "actuator", None), "reset", None)
    if reset is not None:
        reset()
    return "latched=%x" % app.latched_alarms


def cmd_hil(console, args):
    """hil lockstep|realtime [OUT], hil off, hil (the mode); `hil step` and `hil meas`
    are served by console.py itself."""
    from hil import LOCKSTEP, MODE_NAMES, OFF, REALTIME

    app = console.app
    sub = args[0] if args else ""
    if sub in ("lockstep", "realtime", "pins") and len(args) <= 2:
        if len(args) == 2:  # the actuator's present output: a bumpless start
            out = as_number(args[1])
            if out is None or not 0.0 <= out <= 100.0:
                raise ConsoleError("E_RANGE", "hil %s OUT: 0..100 %%" % sub)
            app.controller.preset_output(out)
        app.hil_start(REALTIME if sub == "realtime" else LOCKSTEP)
        if sub == "pins":  # lockstep with the drivers in the loop (hil.py)
            app.hil.pins(app.hal, app.loop.now)
    elif sub == "off" and len(args) == 1:
        app.hil_stop()
    elif sub != "":
        raise ConsoleError("E_SYNTAX", "usage: hil lockstep|realtime|pins|off | hil step DT_MS "
                           "T_IN_C FLOW_M3H RUNNING MODE [T_OUT_C P_UNIT_W P_PUMP_W] "
                           "| hil meas T_IN_C FLOW_M3H RUNNING MODE [T_OUT_C P_UNIT_W "
                           "P_PUMP_W]")
    hil = app.hil
    if hil.hal is not None:
        return "hil=pins"
    return "hil=%s" % MODE_NAMES[hil.mode if hil.mode != OFF else 0]


def cmd_lock(console, args):
    console._need(args, 1, "lock PIN")
    _check_pin(console, args[0])
    console.locked = True
    return "locked"


def cmd_unlock(console, args):
    console._need(args, 1, "unlock PIN")
    _check_pin(console, args[0])
    console.locked = False
    return "unlocked"


def _check_pin(console, pin):
    stored = console.app.pin
    if not stored:
        raise ConsoleError("E_VALUE", "no PIN is set; pin set NEW first")
    if pin != stored:
        raise ConsoleError("E_VALUE", "wrong PIN")


def cmd_pin(console, args):
    if args[:1] == ["set"] and len(args) == 2:
        if not 4 <= len(args[1]) <= 12 or not _alnum(args[1]):
            raise ConsoleError("E_VALUE", "a PIN is 4-12 letters or digits")
        console.app.pin = args[1]
    elif args == ["clear"]:
        console.app.pin = ""
        console.locked = False
    else:
        raise ConsoleError("E_SYNTAX", "usage: pin set NEW | pin clear")
    return "pin=%s" % ("set" if console.app.pin else "none")


# ---- the on-line optimiser (core/optimiser.py, docs/optimiser.md) ---------------
def cmd_opt(console, args):
    from core import learned

    c = console.app.controller
    opt = c.opt
    if args:
        which = args[1] if len(args) == 2 else "both"
        if args[0] != "reset" or len(args) > 2 or which not in ("cooling", "heating", "both"):
            raise ConsoleError("E_SYNTAX", "usage: opt [reset [cooling|heating]]")
        opt.forget(("both", "cooling", "heating").index(which))
        return "reset=%s (save to keep it)" % which
    season = c.cmd.season or opt.season
    try:
        known = learned.export(c)
    finally:
        unload("core.learned")
    words = []
    for name in ("cooling", "heating"):
        p, t, n = known[name]
        words.append("%s=%s@%s/%d" % (name, fmt(p), fmt(t), n))
    n = opt.conf[season]
    # Confidence: converged probes behind the learned optimum, three or more is 1.
    return ("optimiser=%s state=%s season=%s sp=%s centre=%s p_model=%s offset=%s grad=%s "
            "cop_meas=%s confidence=%s guard=%s learned %s") % (
        c.config["params"]["optimiser"], ("model", "hold", "seek", "idle", "fallback")[opt.state],
        ("?", "cooling", "heating")[season], fmt(opt.sp), fmt(opt.centre),
        fmt(c.cmd.p_opt_pct), fmt(opt.offset[season]), fmt(opt.grad), fmt(opt.cop),
        fmt(n / 3.0 if n < 3 else 1.0),
        fmt(c.guard_pct) if c.config["params"]["cutout_margin_k"] > 0.0 else "off",
        " ".join(words))
