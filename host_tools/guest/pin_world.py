# The virtual board's outside in pin-level HIL (docs/hil.md#pin-level), run by
# vboot.py inside the guest MicroPython when the flash holds /pins.json.
#
# The firmware runs on the port's machine twin, on a twin clock that only this
# module moves: the firmware's `time` is a VTime whose sleeps advance the clock.
# Before and after a run a sleep also waits as long on the wall clock (the board
# behaves as a board); during a pin-level `hil step` the firmware sleeps in 10 ms
# slices (firmware/hil.py) and time passes only here, with no wall-clock wait:
#
#   - the first sleep of a step fetches the plant's values for it from the host
#     ("F" -> "S key=value ..."), over a twin-UART-style host bridge (the "uart"
#     host call to the pseudo-terminal named in /pins.json), and puts them on the
#     pins: a DS18B20's temperature, an NTC's or a 4-20 mA shunt's volts, the
#     run/heating contacts;
#   - every sleep moves the clock, with the flow meter's pulse edges at their
#     times inside it (a phase carried from step to step), and answers the VFD's
#     Modbus requests through the host's responder;
#   - time.sleep_ms(0) after the control tick (hil.py: settle) reads the outputs
#     back at the pins (the DAC's or PWM's volts through the output stage, the run
#     relay, the 3-point valve's travel integrated from its relays, the VFD's
#     speed register) and sends them ("R ..."): the plant is driven by what the
#     pins say, not by what the controller meant.
#
# The host's answers come back within the same sleep, so a run depends on
# nothing but the plant and the board: the same scenario gives the same steps.
import json
import math

from twins.clock import TICKS_MAX, VirtualClock

PULSE_US = 5000  # the width of a flow meter's pulse (open collector, low while on)
TURNAROUND_US = 3000  # the drive answers a Modbus request this long after it ends


_LO = 1 << 28  # the small-int part of PinClock's time wraps into the big part here


class PinClock(VirtualClock):
    """The twins' VirtualClock for a long run on the 32-bit guest: time is a big
    base plus a small-int offset, and the ticks are kept wrapped, so moving the
    clock allocates nothing; only reading `us` (at an event) builds a big int. A
    6 h run is 2**34 us: every move building one would fill the heap within a
    step, between the loop's collections."""

    def __init__(self):
        self._hi = 0  # a multiple of _LO
        self._lo = 0
        self._ticks_us = 0
        self._ticks_ms = 0
        self._sub = 0  # microseconds towards the next ms tick

    @property
    def us(self):
        return self._hi + self._lo if self._hi else self._lo

    def advance_us(self, us):
        if us < 0:
            raise ValueError("time cannot go back")
        self._lo += us
        if self._lo >= _LO:
            self._hi += _LO
            self._lo -= _LO
        self._ticks_us = (self._ticks_us + us) & TICKS_MAX
        sub = self._sub + us
        if sub >= 1000:
            ms = sub // 1000
            self._ticks_ms = (self._ticks_ms + ms) & TICKS_MAX
            sub -= ms * 1000
        self._sub = sub

    def advance_to(self, us):
        left = us - self.us
        if left > 0:
            self.advance_us(int(left))


class VTime:
    """The firmware's `time` module in pin-level HIL."""

    def __init__(self, clock, world):
        import time as rt

        self._rt = rt
        self._w = world
        self.ticks_ms = clock.ticks_ms
        self.ticks_us = clock.ticks_us
        self.ticks_cpu = clock.ticks_us
        self.ticks_diff = rt.ticks_diff
        self.ticks_add = rt.ticks_add
        self.time = rt.time
        self.time_ns = rt.time_ns
        self.localtime = rt.localtime
        self.gmtime = rt.gmtime
        self.mktime = rt.mktime

    def sleep_ms(self, ms):
        self._w.sleep_us(int(ms) * 1000)

    def sleep_us(self, us):
        self._w.sleep_us(int(us))

    def sleep(self, s):
        self._w.sleep_us(int(s * 1000000))


class Link:
    """Lines to and from the host over the bridge; a request waits for its answer.
    The bridge's read does not block: between empty reads the wait is a real
    sleep, so the answer costs a few polls, not a heap full of empty strings (the
    interpreter collects only between the loop's slices)."""

    def __init__(self, uid):
        import time as rt  # the real module (vboot installs VTime after this)

        self.uid = uid
        self._rt = rt

    def ask(self, line):
        from binascii import hexlify, unhexlify

        import host

        got = unhexlify(host.call("uart", self.uid + ":" + hexlify(
            (line + "\n").encode()).decode()))
        wait = 20
        while not got.endswith(b"\n"):
            self._rt.sleep_us(wait)
            if wait < 2000:
                wait += wait
            got += unhexlify(host.call("uart", self.uid))
        return got.decode().strip()


def _f(text):
    return float(text)


class PinWorld:
    def __init__(self, m, spec):
        self.m = m
        self.w = m.world
        self.clock = m.world.clock
        self.link = Link(str(spec["uid"]))
        self.spec = spec
        self.in_step = False
        self.attached = False  # a run is on (the host answered the first fetch)
        self.grid_us = -1  # the clock at the end of the firmware loop's first sleep
        self.vals = {}
        self.t = 0  # microseconds since the step began (small ints: no allocation)
        self.pulse_us = 0  # microseconds between pulses at the present flow (0: none)
        self.next_us = 0  # step time of the next falling edge
        self.release_us = -1  # step time at which the pulse ends (-1: none)
        self.valve_pct = 0.0  # 3-point valve travel
        self.flow_pin = None
        self.vfd = None
        self._sensors = {}
        self._rtds = {}
        for name in ("temperature", "t_out"):
            sec = spec.get(name)
            if sec and sec["driver"] == "ds18b20":
                from twins.onewire import DS18B20

                bus = self.w.onewire(sec["pins"]["onewire"])
                self._sensors[name] = bus.attach(DS18B20(serial=len(self._sensors) + 1,
                                                         temp_c=20.0))
            elif sec and sec["driver"] == "max31865":
                pins = sec["pins"]
                chip = Max31865(self.clock, sec["params"]["r_ref_ohm"])
                self.w.spi(pins["spi"]).attach(chip, cs=pins["cs"])
                self._rtds[name] = chip
        self.faults = ""  # the driver-level faults on this step, comma separated
        act = spec.get("actuator")
        if act and act["driver"] == "vfd":
            self.vfd = self.w.uart(act["pins"]["uart"])
            self.vfd.peer = VfdPeer(self)
        import time as rt  # the real module (vboot installs VTime after this)

        self._rt = rt

    # ---- the clock ---------------------------------------------------------
    def sleep_us(self, us):
        if us <= 0:
            if self.in_step:
                self.in_step = False
                self.link.ask("R " + self.readback())
            return
        if not self.in_step:
            answer = self.link.ask("F")
            if answer.startswith("S"):
                self.in_step = True
                if not self.attached:
                    self._align()
                    self.attached = True
                # a new step: its own time base (a pulse in flight keeps its place)
                self.next_us -= self.t
                if self.release_us >= 0:
                    self.release_us -= self.t
                self.t = 0
                self._forget()
                self.apply(answer)
            else:
                self.attached = False
                self._rt_sleep(us)
                self.clock.advance_us(us)
                if self.grid_us < 0:
                    self.grid_us = self.clock.us  # the firmware loop's first deadline
                return
        self.advance(us)

    def _align(self):
        """A run starts on a whole second of the firmware loop's schedule: before
        it the board ran on its own for as many 10 ms slices as the boot and the
        harness's requests took (wall-clock paced), and the drivers' periods and
        windows (whole seconds by default) were set on that schedule. Starting the
        run at the same phase of it makes the run independent of that lead-in."""
        if self.grid_us < 0:
            return
        late = (self.clock.us - self.grid_us) % 1000000
        if late:
            self.clock.advance_us(1000000 - late)

    def _forget(self):
        """The twins' records for tests (every 1-Wire command, every byte on the
        drive's line) would grow for the whole run: dropped each step."""
        for name in self._sensors:
            sec = self.spec[name]
            self.w.onewire(sec["pins"]["onewire"]).log = []
        for name in self._rtds:
            self.w.spi(self.spec[name]["pins"]["spi"]).written = bytearray()
        if self.vfd is not None:
            self.vfd.tx = bytearray()

    def _rt_sleep(self, us):
        self._rt.sleep_us(us)

    def advance(self, us):
        clock = self.clock
        end = self.t + us
        while True:
            t = self._next_event()
            if t < 0 or t > end:
                break
            if t > self.t:
                clock.advance_us(t - self.t)
                self.t = t
            self._event(t)
        if end > self.t:
            clock.advance_us(end - self.t)
            self.t = end
        if self.valve is not None:
            self._valve_step(us)

    def _next_event(self):
        t = -1
        if self.release_us >= 0:
            t = self.release_us
        elif self.pulse_us:
            t = self.next_us
        return t

    def _event(self, t):
        if self.release_us >= 0 and t == self.release_us:
            self.w.drive(self.flow_pin, 1)
            self.release_us = -1
        elif self.pulse_us and t == self.next_us:
            self.w.drive(self.flow_pin, 0)
            self.release_us = t + PULSE_US
            self.next_us = t + self.pulse_us
        self.w.run_scheduled()  # soft IRQ handlers (esp32): the VM's next boundary

    # ---- the plant's values onto the pins -----------------------------------------
    def apply(self, line):
        vals = {}
        for word in line.split()[1:]:
            k, _, v = word.partition("=")
            vals[k] = v
        self.vals = vals
        if "p" in vals:  # the actuator's position at the start of the run
            self.valve_pct = _f(vals["p"])
        self.faults = vals.get("x", "")
        faults = self.faults.split(",")
        spec = self.spec
        for name, key in (("temperature", "t"), ("t_out", "o")):
            sec = spec.get(name)
            if sec:
                self._temperature(name, sec, _f(vals.get(key, "nan")),
                                  faults if name == "temperature" else ())
        sec = spec.get("flow")
        if sec:
            self._flow(sec, _f(vals.get("f", "nan")), faults)
        inputs = spec.get("inputs", {})
        active = 0 if spec.get("active_low", True) else 1
        if "unit_running" in inputs:
            on = vals.get("r", "1") == "1"
            self.w.drive(inputs["unit_running"], active if on else 1 - active)
        if "unit_heating" in inputs:
            on = vals.get("h", "0") == "1"
            self.w.drive(inputs["unit_heating"], active if on else 1 - active)

    def _temperature(self, name, sec, t_c, faults):
        driver = sec["driver"]
        if driver == "ds18b20":
            dev = self._sensors[name]
            dev.present = t_c == t_c
            if t_c == t_c:
                dev.temp_c = t_c
            # a 1-Wire CRC error burst: every scratchpad read corrupted while it lasts
            dev.corrupt_reads = 1000000 if "onewire_crc" in faults else 0
        elif driver == "max31865":
            chip = self._rtds[name]
            if t_c != t_c:
                chip.ohm = -1.0  # the element's wire is cut
            else:
                chip.ohm = _rtd_ohm(sec["params"]["r_nominal_ohm"], t_c)
        elif driver == "ntc":
            p = sec["params"]
            pin = sec["pins"]["adc"]
            if "ntc_open" in faults or t_c != t_c:
                # the divider with its NTC gone: the input at the rail
                self.w.set_volts(pin, 3.3 if p["divider"] == "ntc_low" else 0.0)
                return
            r = _ntc_ohm(p, t_c)
            rf = p["r_fixed_ohm"]
            v = 3.3 * (r / (r + rf) if p["divider"] == "ntc_low" else rf / (r + rf))
            self.w.set_volts(pin, v)

    def _flow(self, sec, flow_m3h, faults):
        driver = sec["driver"]
        p = sec["params"]
        if driver == "current_loop":
            lo, hi = p["range_low"], p["range_high"]
            if "loop_break" in faults or flow_m3h != flow_m3h:
                ma = 0.0  # the wire is broken: no current (< 3.6 mA, NE43)
            else:
                ma = 4.0 + 16.0 * (flow_m3h - lo) / (hi - lo)
            self.w.set_volts(sec["pins"]["adc"], ma * p["shunt_ohm"] / 1000.0)
            return
        # pulse or pulse_pcnt: falling edges at k_factor_ppl pulses per litre
        self.flow_pin = sec["pins"]["pulse"]
        if flow_m3h != flow_m3h or flow_m3h <= 0.0:
            self.pulse_us = 0
            return
        rate = flow_m3h * p["k_factor_ppl"] / 3.6  # pulses per second
        period = int(1000000.0 / rate)
        if period < 2 * PULSE_US:
            period = 2 * PULSE_US
        if not self.pulse_us:
            self.next_us = self.t + period
        else:  # keep the phase: the time left to the next edge scales with the rate
            left = self.next_us - self.t
            self.next_us = self.t + int(left * period / self.pulse_us)
        self.pulse_us = period

    # ---- the outputs, read at the pins -----------------------------------------
    @property
    def valve(self):
        act = self.spec.get("actuator")
        return act if act and act["driver"] == "valve_3point" else None

    def _valve_step(self, us):
        act = self.valve
        pins = act["pins"]
        on = 0 if act["params"]["active"] == "low" else 1
        opening = self.w.level(pins["open"]) == on
        closing = self.w.level(pins["close"]) == on
        if opening == closing:
            return
        rate = 100.0 / act["params"]["travel_s"] / 1000000.0
        self.valve_pct += (rate if opening else -rate) * us
        if self.valve_pct < 0.0:
            self.valve_pct = 0.0
        elif self.valve_pct > 100.0:
            self.valve_pct = 100.0

    def readback(self):
        act = self.spec.get("actuator")
        if not act:
            return "out=nan run=0"
        driver = act["driver"]
        if driver == "analog":
            p = act["params"]
            pin = act["pins"]["out"]
            if p["kind"] == "dac":
                out = self.w.dac(pin)
                pin_v = 0.0 if out is None else out.volts
            else:
                out = self.w.pwm(pin)
                pin_v = 0.0 if out is None else out.duty * p["pin_full_v"]
            volts = pin_v * p["gain"]
            pct = (volts - p["v_at_0_pct"]) * 100.0 / (p["v_at_100_pct"] - p["v_at_0_pct"])
            run = act["pins"].get("run")
            on = 1 if run is None else self.w.level(run)
            return "out=%r run=%d" % (min(100.0, max(0.0, pct)), on)
        if driver == "valve_3point":
            return "out=%r run=1" % self.valve_pct
        if driver == "vfd":
            return "out=%r run=%d" % self._vfd_state()
        return "out=nan run=0"

    def _vfd_state(self):
        words = self.link.ask("V").split()
        return _f(words[1]), int(words[2])


class VfdPeer:
    """The drive on the RS-485 bus (UartEnd.peer): each request frame the board
    sends goes to the host's Modbus RTU responder (pymodbus, host_tools/pinhil.py),
    whose answer (none: the drive is mute) arrives right after the frame."""

    def __init__(self, world):
        self._pw = world

    def respond(self, frame):
        from binascii import hexlify, unhexlify

        answer = self._pw.link.ask("M %s %s" % (self._pw.faults or "-",
                                               hexlify(frame).decode()))
        return unhexlify(answer[2:]) if answer.startswith("A ") else b""


class Max31865:
    """An RTD converter on the board's SPI bus, behind its chip-select (the MAX31865
    datasheet's register map, as much as the driver uses): registers read at 0x0n
    and written at 0x8n in bursts; a config write with D5 (1-shot) starts a
    conversion of 62.5 ms (50 Hz filter) or 52 ms, after which D5 reads clear and
    the RTD registers hold ohm / r_ref as 15 bits; the manual fault cycle (D3:D2)
    and the fault clear (D1) self-clear; an open element reads full scale with
    the RTD-high and REFIN-high faults."""

    def __init__(self, clock, r_ref):
        self.clock = clock
        self.r_ref = r_ref
        self.ohm = 1000.0
        self.regs = bytearray((0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00))
        self._ptr = -1
        self._write = False
        self._cfg = -1  # a config byte written in this transaction
        self._end = -1  # clock.us at which the conversion is done (-1: none)

    def select(self):
        self._settle()
        self._ptr = -1
        self._cfg = -1

    def deselect(self):
        cfg = self._cfg
        if cfg < 0:
            return
        if cfg & 0x02:
            self.regs[7] = 0  # fault clear
        if cfg & 0x20:
            self._end = self.clock.us + (62500 if cfg & 0x01 else 52000)
        self.regs[0] = cfg & 0xF1  # D3:D2 and D1 read back clear

    def _settle(self):
        if self._end >= 0 and self.clock.us >= self._end:
            self._end = -1
            self.regs[0] &= ~0x20 & 0xFF
            if self.ohm < 0:
                code, fault = 0x7FFF, 0xA0
            else:
                code = int(self.ohm / self.r_ref * 32768.0)
                code = 0x7FFF if code > 0x7FFF else code
                high = ((self.regs[3] << 8) | self.regs[4]) >> 1
                low = ((self.regs[5] << 8) | self.regs[6]) >> 1
                fault = 0x80 if code >= high else 0x40 if code <= low else 0
            self.regs[7] |= fault
            self.regs[1] = code >> 7
            self.regs[2] = ((code << 1) & 0xFF) | (1 if self.regs[7] else 0)

    def exchange(self, byte):
        if self._ptr < 0:
            self._ptr = byte & 0x7F
            self._write = bool(byte & 0x80)
            return 0xFF
        ptr = self._ptr
        self._ptr = (ptr + 1) & 0x7F
        if self._write:
            if ptr == 0:
                self._cfg = byte
            elif ptr in (3, 4, 5, 6):
                self.regs[ptr] = byte
            return 0xFF
        self._settle()
        return self.regs[ptr] if ptr < 8 else 0xFF


def _rtd_ohm(r0, t_c):
    """IEC 60751 Callendar-Van Dusen."""
    a, b, c = 3.9083e-3, -5.775e-7, -4.183e-12
    r = r0 * (1.0 + a * t_c + b * t_c * t_c)
    if t_c < 0.0:
        r += r0 * c * (t_c - 100.0) * t_c * t_c * t_c
    return r


def _ntc_ohm(p, t_c):
    t_k = t_c + 273.15
    if p["model"] == "beta":
        return p["r25_ohm"] * math.exp(p["beta_k"] * (1.0 / t_k - 1.0 / 298.15))
    # Steinhart-Hart, 1/T = a + b ln R + c ln^3 R: increasing in ln R, bisect
    a, b, c = p["sh_a"], p["sh_b"], p["sh_c"]
    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if a + b * mid + c * mid * mid * mid > 1.0 / t_k:
            hi = mid
        else:
            lo = mid
    return math.exp((lo + hi) / 2)


def install(m):
    """Read /pins.json; returns (the pin world, the VTime to install as `time`)."""
    with open("/pins.json") as f:
        spec = json.load(f)
    world = PinWorld(m, spec)
    return world, VTime(m.world.clock, world)


def clock():
    """The clock the twins run on in pin-level HIL (vboot builds the machine on it)."""
    return PinClock()
