# Entry script of the virtual board's interpreter (see vrepl.py). boot() never
# returns: the interpreter ends through the host's "exit" call.
#
# With a board profile in /board.json, the port's machine twin (host_tools/twins,
# mounted at /_twins/twins as .mpy) becomes `machine`, `onewire` and `esp32`
# before main.py runs, so the firmware takes its real-board path on pins that
# behave as the port's do (docs/machine-twins.md). Arguments from the host:
# "raw" (start in the raw REPL), "boot=EVENT" and "hw=EVENT" (what ended the last
# run: power, reset, wdt, crash, soft -> reset_cause()), "wdt=TIMEOUT:LEFT_MS"
# (a watchdog a soft reset left running), "twin_heap=BYTES" (heap added for the twins),
# "uarts=ID,..." (twin UARTs wired to the host's pseudo-terminals: HostUart),
# "romfs=BYTES" (a build with a ROMFS partition of that size, kept in the flash
# folder's /.copflow_romfs: mounted at /rom first, as the port does).
# With /pins.json on the flash (pin-level HIL, host_tools/pinhil.py) the twins run
# on a virtual clock and pin_world.py is the board's outside: it becomes the
# firmware's `time` (its sleeps move the clock) and talks to the host's plant
# over the UART bridge /pins.json names (docs/hil.md#pin-level).
import gc

gc.disable()
import sys  # noqa: E402

import vrepl  # noqa: E402


def _opts():
    out = {}
    for arg in sys.argv[1:]:
        key, _, value = arg.partition("=")
        out[key] = value
    return out


def _port():
    import json

    try:
        with open("/board.json") as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("profile"), str):
        return None
    port = info.get("board")
    return port if port in ("esp32", "rp2") else None


def _exit_for(kind, cause):
    import host

    host.call("exit", "102" if kind == "hard" else "100")


def _feed(timeout_ms):
    import host

    host.call("wdt", str(timeout_ms))


def _pins():
    try:
        import os

        os.stat("/pins.json")
        return True
    except OSError:
        return False


def _install(port, opts):
    import twins
    from twins.clock import RealClock

    cause = twins.port_module(port).boot_cause(opts.get("boot", "power"), opts.get("hw", "power"))
    state = {"cause": cause}
    if opts.get("wdt"):
        timeout, _, left = opts["wdt"].partition(":")
        state["wdt"] = {"timeout_ms": int(timeout), "left_us": int(left) * 1000}
    pins = _pins()
    if pins:
        import pin_world

        clock = pin_world.clock()
    else:
        clock = RealClock()
    m = twins.make_machine(port, clock=clock, restore=state)
    b = m._board
    b.reset_hook = _exit_for
    b.wdt_hook = _feed
    twins.preload(m)
    if pins:
        world, vtime = pin_world.install(m)
        skip = world.link.uid
        sys.modules["time"] = vtime
    else:
        skip = ""
    _bridge(m, opts, skip)
    sys.modules["machine"] = m
    sys.modules["onewire"] = m.onewire
    if m.esp32 is not None:
        sys.modules["esp32"] = m.esp32


class HostUart:
    """A twin UART's wire to the host (its pseudo-terminal, see
    micropython_process --uart): the bytes go through host.call as hex."""

    def __init__(self, uid):
        self.uid = uid

    def send(self, data):
        from binascii import hexlify

        import host

        host.call("uart", self.uid + ":" + hexlify(data).decode())

    def receive(self):
        from binascii import unhexlify

        import host

        return unhexlify(host.call("uart", self.uid))


def _bridge(m, opts, skip):
    for uid in opts.get("uarts", "").split(","):
        if uid and uid != skip:
            m.world.uart(int(uid))._line.bridge = HostUart(uid)


def _romfs(size):
    # A build with a ROMFS partition (twins/romfs.py): mounted at /rom before
    # anything else runs, as the port's mp_init does; its bytes are the flash's.
    from twins.romfs import Partition, install

    install(Partition(size).load("/.copflow_romfs"), sys.modules, sys.path)


def _reserve(before, size):
    # The host gave the interpreter `size` bytes more than the board's heap for
    # the twins; what they do not use is held here, so the firmware sees the
    # board's own heap. twins.heap_bytes: what to subtract from heap figures.
    import twins

    used = gc.mem_alloc() - before
    if used < size - 64:
        twins.reserve = bytearray(size - used - 64)
    elif used > size and not _pins():  # pin-level HIL: the outside lives here too
        sys.stderr.write("vboot: the twins take %d bytes, more than the %d reserved\n"
                         % (used, size))
    twins.heap_bytes = gc.mem_alloc() - before


_o = _opts()
_p = _port()
gc.collect()
_b = gc.mem_alloc()
_r = int(_o.get("romfs", "0"))
if _p is not None or _r:
    sys.path.append("/_twins")
if _r:  # the host added the partition's size to the heap, as it did the twins'
    _romfs(_r)
if _p is not None:
    _install(_p, _o)
if _p is not None or _r:
    gc.collect()
    _reserve(_b, int(_o.get("twin_heap", "0")) + _r)
_o = _p = _b = _r = None
gc.collect()
vrepl.boot("raw" in sys.argv[1:])
