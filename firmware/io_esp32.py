# ESP32-only peripherals for the board HAL (type-checked against the ESP32
# stubs only: docs/typecheck.md). Imported only when a driver needs them.
import esp32
import machine

from drivers.pulse_flow_esp32 import pcnt_kwargs

PCNT_UNIT_FLOW = 0  # the flow meter's pulse-counter unit


def flow_pcnt(pin: int, params: dict):
    """The esp32.PCNT unit counting the flow meter's pulses on `pin` (pull-up on,
    for an open-collector output)."""
    return esp32.PCNT(PCNT_UNIT_FLOW,
                      **pcnt_kwargs(params, machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)))
