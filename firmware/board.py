# The service boot (boot(), called by main.py) and the hardware layer for this
# board, chosen in two boot steps separated by collections. /board.json
# ({"board": "esp32", "profile": "esp32-devkitc"}) is written by deploy or by
# the virtual board. With a
# profile, the drivers come from /hw.json (or the profile's default wiring), on
# real pins (on the virtual board, the port's machine twin). Without one, the
# virtual board has no I/O at all (HIL injection only).
import gc
import json
import sys


def boot():
    """main.py's service boot: the built firmware (an app.App), or None after
    the fail-safe. Every error on the way -- MemoryError on a small heap, a
    missing module, Ctrl-C -- goes through the one fail-safe (safe_out.fail):
    outputs safe, `!fault boot ...`, the REPL; no watchdog was started, so a
    boot that cannot fit does not loop. main.py then drops this module (its code
    is not needed once the firmware is built) and runs app.start().
    The frames here stay tiny: they are active through every collection."""
    with _guard():
        return _build()
    return None  # the build failed: the fail-safe has run


def _guard():
    import safe_out

    return safe_out.Guard(None)


def _build():
    # Imported one at a time, a collection after each (the boot peak stays
    # low). Not bound to names and not in a loop: frames stay small wherever a
    # collection runs (each local and a loop's iterator make the frame bigger).
    # hil.py is not among them: the app loads it for a HIL session only.
    gc.collect()
    __import__("core.controller")
    gc.collect()
    _precheck()
    gc.collect()
    __import__("console")
    gc.collect()
    __import__("app")
    gc.collect()
    plan = hardware_plan()
    gc.collect()
    hal = make_hal(plan)
    plan = None
    gc.collect()
    a = sys.modules["app"].App(hal)
    hal = None
    gc.collect()
    # The app loads these itself for the boot's config and drops them after;
    # imported here first so that their import's garbage goes before the parse.
    __import__("store")
    gc.collect()
    __import__("boot_config")
    gc.collect()
    a.load_boot_config()
    gc.collect()
    return a


def _precheck():
    # The saved config's coefficient check while the heap is nearly empty
    # (boot_config.precheck); its module and the store's go again.
    try:
        __import__("boot_config").precheck()
    except Exception:  # noqa: BLE001 -- load_boot_config meets it again and handles it
        pass
    finally:
        for module in ("boot_config", "store"):
            if module in sys.modules:
                del sys.modules[module]


def board_info():
    try:
        with open("/board.json") as f:
            info = json.load(f)
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}
    name = info.get("board", "virtual")
    profile = info.get("profile")
    return (name if isinstance(name, str) else "virtual",
            profile if isinstance(profile, str) else None)


def _on_host() -> bool:
    import machine

    return not hasattr(machine, "Pin")


def hardware_plan():
    """Step 1: the checked hardware plan, an error text, or None (no profile on the host).

    The checker module is dropped afterwards: its code is not needed once the
    plan is made, and on an ESP32-sized heap its 11 KB matter."""
    name, profile_name = board_info()
    if profile_name is None and _on_host():
        return None
    try:
        import hw

        if profile_name is None:
            raise hw.ConfigError("profile", "/board.json names no board profile: "
                                 "deploy with --profile")
        profile = hw.load_profile(profile_name)
        plan = hw.plan(hw.load_config(profile), profile)
        # The next boot makes these outputs safe before any heavy import.
        import safe_plan

        safe_plan.remember(plan)
        return plan
    except MemoryError:
        raise  # not the wiring's fault: the boot's fail-safe (boot())
    except Exception as exc:  # a wrong pin, a missing peripheral, a corrupt file
        return "hw: %s" % (exc,)
    finally:
        for module in ("hw", "drivers.params", "safe_plan"):
            if module in sys.modules:
                del sys.modules[module]


def make_hal(plan):
    """Step 2: the HAL for a plan from hardware_plan()."""
    # /board.json is read again rather than handed over through main.py: a
    # global there kept 1.2 KB more live heap on the esp32-devkitc profile.
    name, profile_name = board_info()
    if plan is None:
        from hal_sim import SimHal

        return SimHal(name)
    # A board's own machine module, or on the virtual board its port's machine
    # twin (host_tools/guest/vboot.py): the same real-board path either way.
    import machine

    from hal_board import BoardHal, MachineIO

    io = MachineIO(machine, name)
    label = profile_name or name
    if isinstance(plan, str):
        hal = BoardHal(None, io, label)
        hal.boot_error = plan
        return hal
    try:
        return BoardHal(plan, io, label)
    except MemoryError:
        raise  # not the wiring's fault: the boot's fail-safe (boot())
    except Exception as exc:  # a driver's own limits, or machine refusing a pin
        # The console must come up whatever the wiring says, so the engineer can
        # read the error and fix /hw.json; the loop runs on missing measurements.
        hal = BoardHal(None, io, label)
        hal.boot_error = "hw: %s" % (exc,)
        return hal
