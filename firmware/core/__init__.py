# Pure control logic: no `machine`, no I/O, no clock reads. Runs unchanged on
# CPython and MicroPython; measurements and time come in as arguments.
