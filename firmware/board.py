# Chooses the hardware layer for this board. The board name comes from
# /board.json ({"board": "esp32"}), written by deploy or by the virtual board;
# a board without `machine.Pin` (the host MicroPython) uses the simulated HAL.
import json


def board_name() -> str:
    try:
        with open("/board.json") as f:
            name = json.load(f).get("board", "virtual")
    except (OSError, ValueError, AttributeError):
        name = "virtual"
    return name if isinstance(name, str) else "virtual"


def make_hal():
    import machine

    name = board_name()
    if not hasattr(machine, "Pin"):
        from hal_sim import SimHal

        return SimHal(name)
    # Real boards get their drivers from the board profile (docs/drivers.md).
    raise RuntimeError("board %r: hardware drivers are not available in this build" % name)
