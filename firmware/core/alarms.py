# Alarm bits. Each fault has one bit, a short name and a code shown on the
# console ("A03 T_STUCK"); docs/architecture.md lists what raises each and the
# safe state it leads to. Bits stay below 1 << 30 so masks remain small ints
# on 32-bit MicroPython ports (no heap allocation when they change).
from core.compat import const

T_MISSING = const(1 << 0)
T_RANGE = const(1 << 1)
T_STUCK = const(1 << 2)
T_RATE = const(1 << 3)
FLOW_MISSING = const(1 << 4)
FLOW_RANGE = const(1 << 5)
FLOW_STUCK = const(1 << 6)
FLOW_RATE = const(1 << 7)
LOW_FLOW = const(1 << 8)
SEASON_UNKNOWN = const(1 << 9)
CONFIG_FALLBACK = const(1 << 10)
LOOP_OVERRUN = const(1 << 11)
INTERNAL = const(1 << 12)
# Plant faults the supervisor infers from the measurements (docs/reliability.md#faults).
ACTUATOR = const(1 << 13)  # flow does not follow the output: stuck valve, tripped VFD
T_IMPLAUSIBLE = const(1 << 14)  # inlet and outlet temperatures disagree (an offset sensor)
T_MODEL_RANGE = const(1 << 15)  # inlet temperature outside the coefficient set's t_lo..t_hi
# Driver faults (docs/drivers.md): each names the wiring or device problem the
# driver saw. A sensor driver with a fault also reports its value as missing,
# so the supervisor's safe state follows from the T_/FLOW_ bits above.
T_NO_SENSOR = const(1 << 16)  # DS18B20 / MAX31865: nothing answers on the bus
T_CRC = const(1 << 17)  # DS18B20: scratchpad CRC wrong on repeated reads
T_POWER_ON = const(1 << 18)  # DS18B20: 85 degC power-on value (sensor browned out)
T_OPEN = const(1 << 19)  # NTC / RTD: open circuit
T_SHORT = const(1 << 20)  # NTC/RTD: short circuit
FLOW_LOOP_LOW = const(1 << 21)  # 4-20 mA below 3.6 mA (NAMUR NE43 failure band)
FLOW_LOOP_HIGH = const(1 << 22)  # 4-20 mA above 21 mA (NAMUR NE43 failure band)
FLOW_PULSE_NOISE = const(1 << 23)  # pulse meter: pulses faster than the meter can give
VALVE_UNSYNCED = const(1 << 24)  # 3-point valve: position unknown until an end-stop resync
VFD_LINK = const(1 << 25)  # Modbus: no reply or bad CRC after all retries
VFD_REJECT = const(1 << 26)  # Modbus: the drive answered with an exception
VFD_TRIP = const(1 << 27)  # the drive reports its own fault (tripped)
WDT_RESET = const(1 << 28)  # the last reset was the watchdog's
METER_FAULT = const(1 << 29)  # a metering input (outlet temperature, S0 meter) faulted

T_FAULTS = const(T_MISSING | T_RANGE | T_STUCK | T_RATE)
FLOW_FAULTS = const(FLOW_MISSING | FLOW_RANGE | FLOW_STUCK | FLOW_RATE)

NAMES = (
    (T_MISSING, "T_MISSING"),
    (T_RANGE, "T_RANGE"),
    (T_STUCK, "T_STUCK"),
    (T_RATE, "T_RATE"),
    (FLOW_MISSING, "FLOW_MISSING"),
    (FLOW_RANGE, "FLOW_RANGE"),
    (FLOW_STUCK, "FLOW_STUCK"),
    (FLOW_RATE, "FLOW_RATE"),
    (LOW_FLOW, "LOW_FLOW"),
    (SEASON_UNKNOWN, "SEASON_UNKNOWN"),
    (CONFIG_FALLBACK, "CONFIG_FALLBACK"),
    (LOOP_OVERRUN, "LOOP_OVERRUN"),
    (INTERNAL, "INTERNAL"),
    (ACTUATOR, "ACTUATOR"),
    (T_IMPLAUSIBLE, "T_IMPLAUSIBLE"),
    (T_MODEL_RANGE, "T_MODEL_RANGE"),
    (T_NO_SENSOR, "T_NO_SENSOR"),
    (T_CRC, "T_CRC"),
    (T_POWER_ON, "T_POWER_ON"),
    (T_OPEN, "T_OPEN"),
    (T_SHORT, "T_SHORT"),
    (FLOW_LOOP_LOW, "FLOW_LOOP_LOW"),
    (FLOW_LOOP_HIGH, "FLOW_LOOP_HIGH"),
    (FLOW_PULSE_NOISE, "FLOW_PULSE_NOISE"),
    (VALVE_UNSYNCED, "VALVE_UNSYNCED"),
    (VFD_LINK, "VFD_LINK"),
    (VFD_REJECT, "VFD_REJECT"),
    (VFD_TRIP, "VFD_TRIP"),
    (WDT_RESET, "WDT_RESET"),
    (METER_FAULT, "METER_FAULT"),
)


def names(mask: int) -> list:
    """Alarm names set in mask, for display; not for the hot path."""
    return [name for bit, name in NAMES if mask & bit]


def code(bit: int) -> str:
    n = 0
    while bit > 1:
        bit >>= 1
        n += 1
    return "A%02d" % (n + 1)
