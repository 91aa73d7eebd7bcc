# ESP32-only peripherals for the board HAL (type-checked against the ESP32
# stubs only: docs/typecheck.md). Imported only when a driver needs them.
import esp32
import machine

from drivers.pulse_flow_esp32 import pcnt_kwargs


def flow_pcnt(pin: int, params: dict, unit: int = 0):
    """esp32.PCNT unit `unit` (hw.plan gives each counting section its own)
    counting a meter's pulses on `pin` (pull-up on, for an open-collector or S0
    output; on an input-only pin the wiring's own pull-up does it)."""
    return esp32.PCNT(unit,
                      **pcnt_kwargs(params, machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)))
