# Register maps of the drive families the VFD driver knows, as data. Addresses
# are the 0-based numbers sent on the wire (holding register 4xxxx / 4xxxxx
# reference minus 40001 / 400001). Each map is a dict, read once when the
# driver is built:
#
#   control, reference   control word and speed reference registers; they
#                        must be adjacent (one function-16 write sets both,
#                        so the drive never sees a new run command with an
#                        old speed)
#   ref_full             reference value that means 100 % speed
#   cw_run, cw_stop      control words for run and (ramp) stop
#   cw_reset             control word that resets a trip (None: no reset)
#   status               status word register
#   tripped, running     status word bits (masks)
#   inhibited            status bit that means "send the stop word before
#                        run" (0: the drive has no such state)
#   actual               speed actual, scaled like the reference (None: the
#                        speed % is derived from the output frequency)
#   freq, freq_per_hz    output frequency register and counts per Hz
#   power, power_per_kw  output power register and counts per kW
#   trip_code            fault code register, meaningful while tripped
#   reads                (first register, count) blocks read every status
#                        period; every register named above must be inside one
#
# Any register may be None when the drive has none (its read-back is then None).

# copflow's own layout, for drives or Modbus gateways whose register map can be
# configured, and for the test peers: every value in one 5-register read.
GENERIC = {
    "name": "generic",
    "control": 0,  # bit 0 run, bit 7 trip reset (rising edge)
    "reference": 1,  # 0..10000 = 0..100.00 %
    "ref_full": 10000,
    "cw_run": 0x0001,
    "cw_stop": 0x0000,
    "cw_reset": 0x0080,
    "status": 2,
    "tripped": 0x0008,
    "running": 0x0001,
    "inhibited": 0,
    "actual": 3,  # 0..10000 = 0..100.00 %
    "freq": 4,
    "freq_per_hz": 100,  # 0.01 Hz
    "power": 5,
    "power_per_kw": 100,  # 0.01 kW
    "trip_code": 6,
    "reads": ((2, 5),),
}

# ABB ACS310 / ACS355 embedded fieldbus (EFB), Modbus RTU, "ABB Drives
# profile" (5305 EFB CTRL PROFILE = ABB DRV LIM or ABB DRV FULL).
# Source: ABB "ACS355 drives user's manual" 3AUA0000066143 (chapter "Fieldbus
# control with embedded fieldbus", Modbus register table 40001..40012 and the
# ABB Drives profile control/status word and state machine); the ACS310
# user's manual 3AUA0000044201 has the same EFB chapter and group 01/04 numbers.
# - 40001 control word, 40002 REF1, 40004 status word.
# - Parameters are registers 4GGII: 0103 OUTPUT FREQ -> 40103,
#   0106 POWER -> 40106, 0401 LAST FAULT -> 40401.
# - REF1 in the ABB Drives profile: 20000 = parameter 1105 REF1 MAX, so set
#   full_scale_hz to 1105 (in Hz when the drive runs on a frequency reference).
# - Control words follow the profile's state machine: 0x0476 (OFF1: ramp stop,
#   READY TO SWITCH ON), 0x047F (OPERATION ENABLED = run), bit 7 rising edge
#   resets a fault; bit 10 is REMOTE_CMD (used by ABB DRV FULL).
# - Status word: bit 2 RDY_REF (operation enabled, modulating), bit 3
#   TRIPPED, bit 6 SWC_ON_INHIB (switch-on inhibited: the drive needs the
#   stop word, bit 0 = 0, before it accepts run).
# - Scalings of 0103 (1 = 0.1 Hz) and 0106 (1 = 0.1 kW) are as the parameter
#   list gives them for these drives; check them against the first readings
#   on the drive's panel.
ABB_ACS355 = {
    "name": "abb_acs355",
    "control": 0,  # 40001
    "reference": 1,  # 40002 REF1
    "ref_full": 20000,
    "cw_run": 0x047F,
    "cw_stop": 0x0476,
    "cw_reset": 0x04F6,
    "status": 3,  # 40004
    "tripped": 0x0008,
    "running": 0x0004,
    "inhibited": 0x0040,
    "actual": None,
    "freq": 102,  # 40103 = 0103 OUTPUT FREQ
    "freq_per_hz": 10,
    "power": 105,  # 40106 = 0106 POWER
    "power_per_kw": 10,
    "trip_code": 400,  # 40401 = 0401 LAST FAULT
    "reads": ((3, 1), (102, 4), (400, 1)),
}

# ABB ACS580 (standard control program) embedded fieldbus, Modbus RTU, ABB
# Drives profile - classic. Source: ABB "ACS580 standard control program
# firmware manual" 3AXD50000016097, chapter "Fieldbus control through the
# embedded fieldbus interface (EFB)": registers 400001..400006 carry the
# defaults of 58.101..58.106 Data I/O 1..6 = CW 16bit, Ref1 16bit, Ref2
# 16bit, SW 16bit, Act1 16bit, Act2 16bit (if 58.101.. are re-mapped, so are
# these registers). REF1 and ACT1: 20000 = 46.01 speed scaling / 46.02
# frequency scaling. The control/status word bits are the ABB Drives
# profile's, as above. Frequency, power and fault code are left out: their
# 16-bit register scalings depend on group 46 and drive settings.
ABB_ACS580 = {
    "name": "abb_acs580",
    "control": 0,  # 400001
    "reference": 1,  # 400002 REF1
    "ref_full": 20000,
    "cw_run": 0x047F,
    "cw_stop": 0x0476,
    "cw_reset": 0x04F6,
    "status": 3,  # 400004
    "tripped": 0x0008,
    "running": 0x0004,
    "inhibited": 0x0040,
    "actual": 4,  # 400005 ACT1
    "freq": None,
    "freq_per_hz": 1,
    "power": None,
    "power_per_kw": 1,
    "trip_code": None,
    "reads": ((3, 2),),
}

MAPS = (GENERIC, ABB_ACS355, ABB_ACS580)
NAMES = tuple(m["name"] for m in MAPS)


def get(name: str) -> dict:
    for m in MAPS:
        if m["name"] == name:
            return m
    raise KeyError(name)
