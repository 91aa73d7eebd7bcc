"""Port-faithful twins of MicroPython v1.27.0's `machine` (and `onewire`, `esp32`)
for the ESP32 and RP2 ports, with a World for the outside of the chip.

    from host_tools.twins import make_machine, PORTS
    m = make_machine("esp32")      # a fresh board; m.Pin, m.ADC, m.UART, m.WDT, ...
    w = m.world                    # drive pins, set volts, the far end of a UART, ...

Every module here runs on CPython and on the host MicroPython (the virtual
board imports this package as `twins`). docs/machine-twins.md lists each
behaviour with the port source it comes from.
"""

from .board import BoardReset  # noqa: F401
from .common import Machine, bind
from .world import World

PORTS = ("esp32", "rp2")


def port_module(port):
    if port == "esp32":
        from . import esp32_machine as mod
    elif port == "rp2":
        from . import rp2_machine as mod
    else:
        raise ValueError("no twin for port %r (have: esp32, rp2)" % (port,))
    return mod


def make_machine(port, clock=None, cause=None, restore=None):
    """A fresh twin board for `port`: the `machine` module object, with `world`.

    clock: a clock.VirtualClock (default: a new one at 0) or clock.RealClock;
    cause: reset_cause() at start (default PWRON_RESET); restore: a
    World.soft_reset_state() from before a soft reset (the WDT keeps running)."""
    from .board import Board

    mod = port_module(port)
    board = Board(mod, clock, cause, restore)
    m = Machine(board)
    m.port = port
    m.Pin = bind(mod.Pin, board)
    m.ADC = bind(mod.ADC, board)
    m.UART = bind(mod.UART, board)
    m.WDT = bind(mod.WDT, board)
    mod.constants(m)
    m.world = World(board)
    _peripherals(m, mod, board)
    return m


def _peripherals(m, mod, board):
    extra = getattr(mod, "peripherals", None)
    m.onewire = None
    m.esp32 = None
    m.rp2 = None
    if extra is not None:
        extra(m, board)


def preload(m):
    """What a board has in ROM from the start, made before the firmware runs
    (the virtual board, host_tools/guest/vboot.py): the twin modules that would
    otherwise load on first use, and every GPIO's static Pin object and state.
    Heap figures taken after this count the firmware's objects only."""
    from . import pwm, spi  # noqa: F401 -- loaded for good, as a port's C code is there

    board = m._board
    for pid in board.port.ALL_PINS:
        m.Pin(pid)
        board.pin(pid)
