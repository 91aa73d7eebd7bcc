# Frozen build of the copflow firmware: its modules compiled into the MicroPython
# image, so their bytecode, constants and names are read from flash and take no
# heap (docs/performance.md, "Freezing and ROMFS"). Build the port with it, e.g.
#
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=<copflow>/firmware/manifest.py
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=<copflow>/firmware/manifest.py
#
# then put only main.py, boards/*.json and /hw.json on the board's filesystem
# (a frozen module is found before the filesystem only if no .mpy of the same
# name is there: remove the ones an earlier `copflow deploy` copied). main.py
# stays a file because the board runs /main.py from the filesystem. This file
# is not a module of the board (host_tools/fwbuild.py NOT_ON_BOARD).
# Functions: docs/reference/manifest.rst of MicroPython.
# include, package and module are the manifest's builtins:
# ruff: noqa: F821
# pyright: reportUndefinedVariable=false

# The port's own frozen modules (asyncio, onewire, ds18x20 and so on).
include("$(PORT_DIR)/boards/manifest.py")

package("core")
package("drivers")
for _name in ("app", "bms", "board", "boot_config", "console", "console_coeffs", "console_extra",
              "hal_board", "hal_build", "hal_sim", "hil", "hw", "io_esp32", "safe_out", "safe_plan",
              "stdio_console", "store"):
    module(_name + ".py")
