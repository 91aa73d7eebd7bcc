"""Pin-level HIL (docs/hil.md#pin-level): the plant drives a virtual board's pins.

`copflow hil --virtual --profile NAME --scenario S` runs the season harness
(host_tools/sim.py) against a virtual board on the profile's machine twin with
its drivers in the loop. Each step the host:

1. hands the plant's values to the board's outside (host_tools/guest/pin_world.py),
   which puts them on the pins: DS18B20 readings, NTC divider volts, a 4-20 mA
   shunt's volts, a flow meter's pulse train, the unit's run/heating contacts;
2. sends `hil step DT_MS` (hil pins): the board runs DT_MS of 10 ms slices on its
   virtual clock (conversions, pulse windows, Modbus traffic), then one control
   tick on what its drivers measured;
3. reads the actuator back at the pins (the 0-10 V stage's volts, the run relay,
   the 3-point valve's integrated travel, the VFD's speed register) and gives that
   to the plant as the output.

The board's outside asks for the plant's values and answers Modbus requests
through one line (a twin-UART bridge to a pseudo-terminal) and waits for each
answer, so a run is deterministic: no step depends on the wall clock.

The VFD is a Modbus RTU server built on pymodbus's RTU framer, PDU decoder and
datastore, called synchronously for each request frame: an asynchronous pymodbus
server on a serial port would answer at a wall-clock moment, and the board's
virtual clock would see a different delay on every run.
"""

import json
import os
import threading
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.hil import LinkDriver, number_word, record_config, restore_config
from host_tools.scenario import DRIVER_FAULTS
from host_tools.sim import Decision

PINS_UID = 9  # the bridge's UART number on the guest side (no real UART has it)
_SECTIONS = ("temperature", "flow", "actuator", "t_out")
# which driver each driver-level fault needs (else it is reported as not applicable)
FAULT_DRIVERS = {"onewire_crc": ("temperature", "ds18b20"),
                 "ntc_open": ("temperature", "ntc"),
                 "loop_break": ("flow", "current_loop"),
                 "vfd_mute": ("actuator", "vfd"),
                 "vfd_fault": ("actuator", "vfd")}


def default_hw(profile: str) -> dict:
    """The profile's default wiring plus the unit's run and heating contacts on the
    profile's input pins (the board needs them to know the season and the demand)."""
    from host_tools import hwconfig

    spec = hwconfig.load_profile(profile)
    hw = json.loads(json.dumps(spec["default_hw"]))
    hw.setdefault("inputs", {"unit_running": True, "unit_heating": True})
    return hw


def plan(profile: str, hw: dict) -> dict:
    """The firmware's hardware plan for this profile and /hw.json (hw.plan)."""
    from host_tools import hwconfig

    return hwconfig.check(hw, profile)


def pins_spec(board_plan: dict) -> dict:
    """What the board's outside needs to know (/pins.json): each section's driver,
    pins and params, the inputs, and the bridge's UART number."""
    spec = {"uid": PINS_UID, "inputs": board_plan.get("inputs", {}),
            "active_low": board_plan.get("active_low", True)}
    for name in _SECTIONS:
        section = board_plan.get(name)
        if section:
            spec[name] = {"driver": section["driver"], "pins": section["pins"],
                          "params": section["params"]}
    return spec


def applicable(board_plan: dict, kind: str) -> bool:
    section, driver = FAULT_DRIVERS[kind]
    return bool(board_plan.get(section)) and board_plan[section]["driver"] == driver


def fault_rows(result, scenario, notes: dict) -> list[dict]:
    """The per-fault summary (sim.FaultWatch's rows) in ticks: `ticks_to_alarm` and
    `ticks_to_safe` count the ticks that saw the fault, the first one included (1:
    the first tick that could see it raised the alarm); `recovered_after_end_s` is
    when all its alarms had cleared; `applicable` is False for a driver-level fault
    whose driver this wiring does not have (nothing at the pins to break)."""
    import math

    dt = scenario.dt_s
    events = [e for e in scenario.events if e.kind != "season"]
    rows = []
    for e, row in zip(events, result.faults, strict=True):
        first = math.ceil(e.at_s / dt - 1e-9)

        def ticks(after_s, first=first, at_s=e.at_s):
            if after_s is None:
                return None
            return int(math.floor((at_s + after_s) / dt + 1e-9)) - first + 1

        rows.append({**row, "applicable": notes.get(e.kind, True),
                     "ticks_to_alarm": ticks(row["first_alarm_after_s"]),
                     "ticks_to_safe": ticks(row["safe_after_s"]),
                     "recovered_after_end_s": row["cleared_after_end_s"]})
    return rows


# ---- the drive: a Modbus RTU server on pymodbus ----------------------------------------

def _run_sync(coro):
    """A pymodbus datastore coroutine that never waits (an in-memory datastore), run
    to its end here: no event loop, no thread, so the answer is there at once."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise CopflowError("the Modbus datastore waited on I/O")


class Drive:
    """A VFD behind a register map (drivers.vfd_maps): pymodbus decodes the board's
    request frames, serves them from its datastore and frames the answers; the
    drive's state (run, reference, trip) follows the control registers written."""

    FAULT_CODE = 7  # reported in the trip-code register while vfd_fault is on

    def __init__(self, regmap: dict, address: int):
        from pymodbus.framer import FramerRTU
        from pymodbus.pdu import DecodePDU
        from pymodbus.simulator import DataType, SimData, SimDevice
        from pymodbus.simulator.simcore import SimCore

        self.m = regmap
        self.address = address
        top = max(v for k, v in regmap.items() if isinstance(v, int) and k in (
            "control", "reference", "status", "actual", "freq", "power", "trip_code"))
        device = SimDevice(address, simdata=[SimData(0, count=top + 1, values=0,
                                                     datatype=DataType.REGISTERS)])
        self.context = SimCore(device)  # what pymodbus's server serves requests from
        self.framer = FramerRTU(DecodePDU(True))
        self.tripped = False
        self.requests = 0
        self._cw = 0

    def _get(self, reg: int) -> int:
        return _run_sync(self.context.async_getValues(self.address, 3, reg, 1))[0]

    def _put(self, reg: int | None, value: int) -> None:
        if reg is not None:
            _run_sync(self.context.async_setValues(self.address, 16, reg,
                                                   [int(value) & 0xFFFF]))

    @property
    def running(self) -> bool:
        return self._get(self.m["control"]) == self.m["cw_run"] and not self.tripped

    def speed_pct(self) -> float:
        return self._get(self.m["reference"]) * 100.0 / self.m["ref_full"] \
            if self.running else 0.0

    def respond(self, frame: bytes, faults: set) -> bytes:
        """The answer to one request frame; b"" when the drive stays silent (mute,
        a frame for another address, a bad CRC)."""
        if "vfd_mute" in faults:
            return b""
        if "vfd_fault" in faults:
            self.tripped = True
        used, pdu = self.framer.handleFrame(frame, self.address, 0)
        if pdu is None:
            return b""
        self.requests += 1
        self._follow("vfd_fault" in faults)  # a trip shows in the status it reads
        response = _run_sync(pdu.datastore_update(self.context, self.address))
        self._follow("vfd_fault" in faults)  # what it wrote takes effect
        response.dev_id = self.address
        return self.framer.buildFrame(response)

    def _follow(self, fault_on: bool) -> None:
        m = self.m
        cw = self._get(m["control"])
        if (m["cw_reset"] is not None and cw & m["cw_reset"] and not self._cw & m["cw_reset"]
                and not fault_on):
            self.tripped = False  # a rising reset bit clears a trip that has gone
        self._cw = cw
        status = (m["tripped"] if self.tripped else 0) | (m["running"] if self.running else 0)
        self._put(m["status"], status)
        fraction = self.speed_pct() / 100.0
        self._put(m["actual"], round(fraction * m["ref_full"]))
        if m["freq"] is not None:
            self._put(m["freq"], round(fraction * 50.0 * m["freq_per_hz"]))
        if m["power"] is not None:
            self._put(m["power"], round(fraction ** 3 * 2.2 * m["power_per_kw"]))
        self._put(m["trip_code"], self.FAULT_CODE if self.tripped else 0)


# ---- the line to the board's outside ---------------------------------------------------

class PinServer:
    """Answers the board's outside on its bridge (a thread): "F" -> the plant's
    values for the step ("S ..."), or "N" between runs; "R out=.. run=.." -> the
    actuator read back at the pins; "M FAULTS HEX" -> the drive's answer; "V" ->
    the drive's speed and run state."""

    def __init__(self, path: str, drive: Drive | None):
        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.drive = drive
        self.stimuli: str | None = None  # the next step's "S ..." line (None: no run)
        self.readback: dict[str, str] = {}
        self.fetches = 0
        self.error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _lines(self):
        buf = b""
        while not self._stop:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode("ascii", "replace").strip()

    def _run(self) -> None:
        try:
            for line in self._lines():
                os.write(self._fd, (self.answer(line) + "\n").encode())
        except BaseException as exc:  # noqa: BLE001 -- reported by the driver's next step
            self.error = exc

    def answer(self, line: str) -> str:
        if line == "F":
            if self.stimuli is None:
                return "N"
            self.fetches += 1
            return self.stimuli
        if line.startswith("R "):
            self.readback = dict(w.partition("=")[::2] for w in line[2:].split())
            return "K"
        if line.startswith("M ") and self.drive is not None:
            _, faults, data = line.split(" ", 2)
            got = self.drive.respond(bytes.fromhex(data), set(faults.split(",")))
            return "A " + got.hex() if got else "X"
        if line == "V" and self.drive is not None:
            return f"V {self.drive.speed_pct()!r} {1 if self.drive.running else 0}"
        return "X"

    def close(self) -> None:
        self._stop = True
        try:
            os.close(self._fd)
        except OSError:
            pass


class PinDriver(LinkDriver):
    """The board in pin-level lockstep: the plant's values go onto its pins, the
    output the plant gets is what the pins say."""

    name = "hil-pins"
    hil_mode = "pins"

    def __init__(self, link, server: PinServer, events: list, coeffs: dict | None = None,
                 settings: dict | None = None):
        super().__init__(link, coeffs, settings)
        self.server = server
        self.faults = [e for e in events if e.kind in DRIVER_FAULTS]
        self.time_s = 0.0

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        super().start(plant, season, dt_s, start_output)
        self.dt_s = dt_s
        self._start = f" p={start_output!r}"  # where a 3-point valve stands at the start

    def stimuli(self, measured) -> str:
        faults = ",".join(e.kind for e in self.faults if e.active(self.time_s)) or "-"
        start, self._start = self._start, ""
        return (f"S t={number_word(measured.t_in_c)} o={number_word(measured.t_out_c)} "
                f"f={number_word(measured.flow_m3h)} r={1 if measured.demand else 0} "
                f"h={1 if measured.unit_mode == 'heating' else 0} x={faults}{start}")

    def decide(self, measured) -> Decision:
        if self.server.error is not None:
            raise CopflowError(f"pin-level HIL: the board's outside failed: {self.server.error}")
        if any(e.kind == "vfd_fault" and e.until_s <= self.time_s < e.until_s + self.dt_s
               for e in self.faults):
            # the trip is over: the operator acknowledges, and the board asks the
            # drive for its reset (a drive never restarts by itself)
            self.link.command("ack")
        self.server.stimuli = self.stimuli(measured)
        self.server.readback = {}
        fields = self.step("")
        self.time_s += self.dt_s
        back = self.server.readback
        if not back:
            raise CopflowError("pin-level HIL: the board's outputs were not read back "
                               "(is the board running hil pins?)")
        out = float(back["out"]) if back.get("run") == "1" else 0.0
        self.cop_meas = fields.get("cop_meas", "none")
        return Decision(out if out == out else 0.0, float(fields["sp"]), float(fields["popt"]),
                        int(fields["alarms"], 16), fields.get("state", ""))

    def silent(self) -> None:
        self.time_s += self.dt_s

    def stop(self) -> None:
        self.server.stimuli = None
        self.link.command("hil off")

    def timing(self) -> dict:
        return {**super().timing(), "level": "pins"}


def run_pins(profile: str, scenario_name: str, coeffs_path: Path | None = None,
             hw: dict | None = None, timeout_s: float = 30.0, progress=None, log=None):
    """A scenario in pin-level lockstep on a virtual board running `profile` with
    /hw.json `hw` (default: default_hw(profile)). Returns (scenario, SimResult,
    timing, plant point, coeffs, faults applicability)."""
    import sys
    import tempfile

    from host_tools import sim
    from host_tools.coeffs_file import load_file
    from host_tools.link import Link
    from host_tools.scenario import load_scenario
    from host_tools.vboard import VirtualBoard

    scenario = load_scenario(scenario_name)
    coeffs = load_file(coeffs_path) if coeffs_path else None
    hw = default_hw(profile) if hw is None else hw
    board_plan = plan(profile, hw)
    drive = None
    act = board_plan.get("actuator")
    if act and act["driver"] == "vfd":
        from drivers import vfd_maps

        drive = Drive(vfd_maps.get(act["params"]["map"]), act["params"]["address"])
    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp) / "flash"
        flash.mkdir()
        (flash / "pins.json").write_text(json.dumps(pins_spec(board_plan)))
        # The outside's garbage (boxed floats, the bridge's strings) lands in the
        # board's heap during a step, between the loop's collections: a larger heap.
        board = VirtualBoard(flash, profile=profile, hw=hw, heap="4M",
                             uarts={"pins": PINS_UID}, log=log or sys.stderr,
                             restart_delay_s=0.05)
        # the outside asks the host from the board's first sleep on: serve it first
        server = PinServer(board.uart_ports["pins"], drive)
        try:
            with board.boot(30.0), Link(board.port, timeout_s=timeout_s) as link:
                driver = PinDriver(link, server, scenario.events, coeffs)
                before = record_config(link)
                try:
                    result, pp = sim.run_scenario(scenario, driver, progress=progress)
                finally:
                    try:
                        driver.stop()
                    finally:
                        restore_config(link, before)
        finally:
            server.close()
    notes = {e.kind: applicable(board_plan, e.kind) for e in scenario.events
             if e.kind in DRIVER_FAULTS}
    return scenario, result, driver.timing(), pp, coeffs, notes
