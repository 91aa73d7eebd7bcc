# Board entry point. Automatic garbage collection is switched off before any
# import; modules are imported one at a time with a collection between them
# (this module-level frame is small), and the loop collects between slices
# (docs/micropython-host.md).
import gc

gc.disable()
for _name in ("core.controller", "console", "store", "app", "board"):
    __import__(_name)
    gc.collect()
import app  # noqa: E402
import board  # noqa: E402

app.run(board.make_hal())
