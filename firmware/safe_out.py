# Outputs safe, first and last (docs/architecture.md, "Boot" and "The fail-safe").
#
# main.py imports this before anything else: it drives the actuator outputs
# named in /safe.json to their safe levels (valve relays off, RS-485 DE low,
# the 0-10 V stage at 0 V, the pump run relay off) before the ~80 KB of
# firmware modules are imported. /safe.json is a few bytes, written by deploy
# and rewritten by the board itself from its checked hardware plan
# (safe_plan.py, which is not kept resident), so nothing big is parsed here.
#
# fail() is the one fail-safe: every way out of boot or of the control loop
# passes through it.
import sys

SAFE_FILE = "/safe.json"
REBOOT_FILE = "/reboot"  # an intended reset (hal_board.MachineIO.reset): not the watchdog's


def _machine():
    try:
        import machine
    except ImportError:  # CPython
        return None
    # The host MicroPython without a board profile has no pins at all.
    return machine if hasattr(machine, "Pin") else None


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def exists(path) -> bool:
    try:
        open(path).close()
        return True
    except OSError:
        return False


def remove(path):
    try:
        import os

        os.remove(path)
    except OSError:
        pass


def load():
    """{"out": [[pin, level], ...]} from /safe.json, or None."""
    text = read(SAFE_FILE)
    if not text:
        return None
    import json

    try:
        spec = json.loads(text)
    except ValueError:
        return None
    return spec if isinstance(spec, dict) else None


def apply(spec=None):
    """Drive every listed output to its safe level, straight through machine.Pin
    (no driver needed). A pin the port refuses is skipped, never fatal.

    A DAC output is listed as a plain output, low: 0 V as well, and it leaves
    the DAC channel free for the driver. On ESP32 a second machine.DAC on the
    same pin fails (machine_dac.c calls dac_oneshot_new_channel on every
    construction and has no deinit), so creating one here would cost the
    driver its output until a hard reset."""
    m = _machine()
    if m is None:
        return
    if spec is None:
        spec = load()
    if spec is None:
        return
    for item in spec.get("out", ()):
        try:
            m.Pin(item[0], m.Pin.OUT, value=item[1])
        except Exception:  # noqa: BLE001 -- a wrong entry must not stop the others
            pass


_BREAK = [3]  # the port's Ctrl-C as last set by kbd_intr(): 3 KeyboardInterrupt, -1 a byte


def kbd_intr(char):
    """Set what Ctrl-C does on the port (micropython.kbd_intr; boards only) and
    remember it, so that code which holds it off for a moment (the store's
    renames) can put back what the loop had (break_setting())."""
    _BREAK[0] = char
    try:
        import micropython

        micropython.kbd_intr(char)
    except (ImportError, AttributeError):
        pass


def break_setting() -> int:
    return _BREAK[0]


def _say(hal, text):
    try:
        if hal is None:
            sys.stdout.write(text)
        else:
            hal.console_write(text)
            hal.console_drain()  # what the loop queued, then this: before a reset or the REPL
    except Exception:  # noqa: BLE001 -- the console is no reason to stop here
        pass


def to_repl():
    """Ctrl-C: on a board, main.py returns and the port's REPL takes over; the
    virtual board enters its REPL in place (docs/micropython-host.md)."""
    try:
        import vrepl  # pyright: ignore[reportMissingImports] -- virtual board only
    except ImportError:
        return
    vrepl.interrupted()


class Guard:
    """`with Guard(hal):` around the loop, `with Guard():` around the boot. What
    stops the block goes through fail() and is not raised further; the loop's
    block ending by itself is a requested reboot (fail(None, hal)). A with-block,
    not try/except: the frames stay small enough for the host MicroPython
    (docs/micropython-host.md)."""

    def __init__(self, hal=None):
        self.hal = hal

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            if self.hal is not None:
                fail(None, self.hal)
            return False
        fail(exc, self.hal)
        return True


def fail(exc, hal=None):
    """The one fail-safe. exc None: a requested reboot. KeyboardInterrupt: the
    REPL. Anything else: `!fault ...`, then a reboot when the loop was running
    (hal given); at boot (hal None) the REPL, with no watchdog started, so a boot
    that cannot fit the heap does not reset-loop. A tiny frame (two locals, no
    try): on the host MicroPython it stays active under the REPL's collections."""
    _secure(hal)
    if exc is None:
        _say(hal, "!reboot\n")
        kbd_intr(3)
        if hal is not None:
            hal.reset()
        return
    if isinstance(exc, KeyboardInterrupt):
        _say(hal, "!stopped outputs=safe\n")
        kbd_intr(3)
        to_repl()
        return
    _say(hal, "!fault %s %s: %s\n" % ("boot" if hal is None else "loop",
                                     type(exc).__name__, exc))
    kbd_intr(3)
    if hal is not None:
        hal.reset()


def _secure(hal):
    kbd_intr(-1)  # a second Ctrl-C must not cut the fail-safe short
    import gc

    gc.collect()  # after a MemoryError: room for what follows
    if hal is not None:
        try:
            hal.safe()  # the drivers: DAC/PWM to 0 V, relays off, DE low, VFD stop
        except BaseException:  # noqa: B036 -- even a second Ctrl-C: the pins below anyway
            pass
    apply()
