"""Host-side checks of a board's hardware config (/hw.json) with the firmware's own code.

The same `hw.plan()` that runs at boot, plus building every driver on the
port's machine twin, so the drivers' own cross-field limits are checked too:
an error shows on the PC before anything is copied to the board.
"""

import json
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.paths import FIRMWARE_DIR, import_firmware

PROFILE_DIR = FIRMWARE_DIR / "boards"
DEFAULT_PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}


def profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def load_profile(name: str) -> dict:
    import_firmware()
    import hw

    if name not in profiles():
        raise CopflowError(f"no board profile {name!r} (have: {', '.join(profiles())})")
    return hw.load_profile(name, str(PROFILE_DIR))


def check(config, profile_name: str, source: str = "hw config") -> dict:
    """The hardware plan for `config` (a parsed /hw.json, or None for the profile's
    default wiring), or CopflowError naming the key at fault. Every driver is
    built on the profile's port's machine twin (docs/machine-twins.md), so what
    the port itself would refuse (a pin, an argument) shows here too."""
    import_firmware()
    import hal_board
    import hw
    from core.config import ConfigError
    from host_tools.twins import make_machine
    from host_tools.twins.modules import installed

    profile = load_profile(profile_name)
    try:
        plan = hw.plan(profile["default_hw"] if config is None else config, profile)
        m = make_machine(profile["port"])
        with installed(m, fresh=("io_esp32",)):
            hal_board.build_drivers(plan, hal_board.MachineIO(m, profile["port"]))
    except ConfigError as exc:
        raise CopflowError(f"{source}: {exc}") from None
    except (ValueError, TypeError, OSError) as exc:  # the port refused a pin or argument
        raise CopflowError(f"{source}: {profile['port']} machine: {exc}") from None
    return plan


BMS_DEFAULT = {"driver": "modbus", "params": {"address": 1, "baud": 19200}}


def with_bms(config, profile_name: str) -> dict:
    """`config` (None: the profile's default wiring) with the BMS slave switched on
    at the profile's default BMS UART, address 1, 19200 baud, unless it has one."""
    out = dict(load_profile(profile_name)["default_hw"] if config is None else config)
    out.setdefault("bms", BMS_DEFAULT)
    return out


def modbus_uarts(plan: dict) -> dict[str, int]:
    """name -> UART id of the plan's Modbus lines: "bms" (the board as slave) and
    "vfd" (the board as master toward a drive)."""
    out = {}
    bms = plan.get("bms")
    if bms:
        out["bms"] = bms["pins"]["uart"]
    actuator = plan.get("actuator")
    if actuator and actuator["driver"] == "vfd":
        out["vfd"] = actuator["pins"]["uart"]
    return out


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise CopflowError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CopflowError(f"{path}: not valid JSON ({exc})") from None
