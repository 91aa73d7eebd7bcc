# Board entry point. Automatic garbage collection is switched off before any
# import, and memory is collected between boot phases and between loop slices
# (docs/micropython-host.md). Keep this file to plain statements: a loop or a
# long expression here would make the module's frame too big to survive a
# collection on the host MicroPython.
import gc

gc.disable()
import core.controller  # noqa: E402, F401

gc.collect()
import console  # noqa: E402, F401

gc.collect()
import store  # noqa: E402, F401

gc.collect()
import hil  # noqa: E402, F401

gc.collect()
import app  # noqa: E402

gc.collect()
import board  # noqa: E402

gc.collect()
_plan = board.hardware_plan()
gc.collect()
_hal = board.make_hal(_plan)
_plan = None
gc.collect()
_app = app.App(_hal)
_hal = None
gc.collect()
_app.load_boot_config()
gc.collect()
app.start(_app)
