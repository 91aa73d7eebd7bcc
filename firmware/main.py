# Board entry point (docs/architecture.md, "Boot"). Plain statements only: the
# work is in small functions, because on the host MicroPython a frame bigger
# than a few words does not survive a collection (docs/micropython-host.md).
#
# 1. /maint (a maintenance boot, for deploy and mpremote) is looked for with
#    nothing but os: a deploy cut mid-switch leaves it behind, maybe with any
#    module half copied.
# 2. The actuator outputs are made safe by a tiny module, before any heavy import.
# 3. Maintenance: /maint removed, `!maint`, the REPL -- no watchdog, no loop.
#    Otherwise board.boot() imports and builds the firmware in phases, and
#    app.start() runs the loop once the boot code is dropped; a boot that fails
#    goes through the fail-safe and stops at the REPL (the watchdog starts only
#    with the loop, so it cannot reset-loop).
# Automatic garbage collection is left as the port has it (on, on a board); the
# host entry points switch it off before this runs.
import os
import sys

_service = "maint" not in os.listdir("/")
import safe_out  # noqa: E402

safe_out.apply()
if _service:
    import board

    _app = board.boot()  # None: the boot failed, and went through the fail-safe
    del board, sys.modules["board"]  # boot-only code: not kept for the loop
    if _app is not None:
        import app

        app.start(_app)  # returns only to the REPL (after Ctrl-C)
else:
    os.remove("/maint")
    print("!maint")
