# Hardware-in-the-loop injection (docs/hil.md). In lockstep mode the host steps
# the board: each `hil step` runs exactly one control tick on the measurements
# it carries and on simulated time, and the board's own clock drives nothing.
# In real-time mode the board runs on its own clock and the host streams
# measurements (`hil meas`); if they stop coming for `hil_timeout_s`, they
# expire and the loop falls to its missing-sensor safe state on its own. In
# lockstep, if no `hil step` comes for `hil_timeout_s`, the board leaves
# lockstep for its own clock and drivers (app.App.slice).
# Pin-level lockstep (`hil pins`, docs/hil.md#pin-level): the same stepping, but
# the measurements come from the drivers: a step runs DT_MS of 10 ms slices
# (time.sleep_ms, then the drivers' poll) before the control tick, so the plant
# outside (the virtual board's twins) is read through the pins in between.
from core.compat import as_number, const
from core.ticks import ticks_add, ticks_diff

OFF = const(0)
LOCKSTEP = const(1)
REALTIME = const(2)
MODE_NAMES = ("off", "lockstep", "realtime")


class HilError(Exception):
    pass


def _measurement(text):
    # A missing value is said explicitly; anything else must be a finite number,
    # so a garbled field is refused instead of read as a sensor failure.
    if text == "nan" or text == "none":
        return None
    value = as_number(text)
    if value is None:
        raise HilError("expected a number, nan or none, got %r" % text)
    return value


def _unit(text, allowed):
    value = as_number(text)
    if value is None or value != int(value) or int(value) not in allowed:
        raise HilError("expected one of %s, got %r" % ("/".join(str(a) for a in allowed), text))
    return int(value)


class HilPort:
    def __init__(self):
        self.mode = OFF
        self.lockstep = False  # mode == LOCKSTEP, read by every slice
        self.clock_ms = 0
        self.t_in_c = None
        self.flow_m3h = None
        self.running = True
        self.unit_mode = 0
        self.t_out_c = None
        self.p_unit_w = None
        self.p_pump_w = None
        self._fresh_ms = 0  # when the last streamed measurement arrived
        self.timeout_ms = 5000
        self.hal = None  # pin-level lockstep: the board's HAL, whose drivers measure
        self._now = None

    def pins(self, hal, now):
        """Lockstep with the drivers in the loop (set after start(LOCKSTEP)); `now`:
        the board's clock (app.loop.now)."""
        self.hal = hal
        self._now = now

    def start(self, mode: int, now_ms: int):
        self.mode = mode
        self.lockstep = mode == LOCKSTEP
        self.clock_ms = now_ms
        self._fresh_ms = now_ms
        self.t_in_c = self.flow_m3h = None
        self.t_out_c = self.p_unit_w = self.p_pump_w = None

    def stop(self):
        self.mode = OFF
        self.lockstep = False
        self.hal = None

    def parse(self, args):
        """T_IN_C FLOW_M3H RUNNING(0/1) MODE(0/1/2) [T_OUT_C P_UNIT_W P_PUMP_W];
        nan or none for a missing value; without the metering three, they are missing.
        In pin-level lockstep the drivers measure: nothing to parse."""
        if self.hal is not None:
            if args:
                raise HilError("hil pins: hil step DT_MS takes no measurements")
            return
        if len(args) != 4 and len(args) != 7:
            raise HilError("expected T_IN_C FLOW_M3H RUNNING MODE [T_OUT_C P_UNIT_W P_PUMP_W]")
        t_in_c = _measurement(args[0])
        flow_m3h = _measurement(args[1])
        t_out_c = p_unit_w = p_pump_w = None
        if len(args) == 7:
            t_out_c = _measurement(args[4])
            p_unit_w = _measurement(args[5])
            p_pump_w = _measurement(args[6])
        running = _unit(args[2], (0, 1)) == 1
        unit_mode = _unit(args[3], (0, 1, 2))
        # All fields checked before any is taken: a refused line changes nothing.
        self.running = running
        self.unit_mode = unit_mode
        self.t_in_c = t_in_c
        self.flow_m3h = flow_m3h
        self.t_out_c = t_out_c
        self.p_unit_w = p_unit_w
        self.p_pump_w = p_pump_w

    def fill(self, meas, now_ms: int):
        """Put the injected values into the controller's measurements (real-time mode);
        in pin-level lockstep, the drivers' readings."""
        if self.hal is not None:
            self.hal.read(meas)
            return
        if ticks_diff(now_ms, self._fresh_ms) > self.timeout_ms:
            # The link went quiet: values expire.
            self.t_in_c = self.flow_m3h = None
            self.t_out_c = self.p_unit_w = self.p_pump_w = None
        meas.t_in_c = self.t_in_c
        meas.flow_m3h = self.flow_m3h
        meas.unit_running = self.running
        meas.unit_mode = self.unit_mode
        meas.t_out_c = self.t_out_c
        meas.p_unit_w = self.p_unit_w
        meas.p_pump_w = self.p_pump_w
        meas.faults = 0  # no drivers in the loop

    def streamed(self, now_ms: int):
        """A `hil meas` (real time) or `hil step` (lockstep) arrived at now_ms."""
        self._fresh_ms = now_ms

    def expired(self, now_ms: int) -> bool:
        """Nothing arrived for timeout_ms: the host is gone (lockstep leaves then)."""
        return ticks_diff(now_ms, self._fresh_ms) > self.timeout_ms

    def advance(self, dt_ms: int) -> int:
        hal = self.hal
        now = self._now
        if hal is not None and now is not None:
            import time

            # DT_MS of 10 ms slices on the board's clock (the virtual board steps
            # it in time.sleep_ms), the drivers polled after each and the watchdog
            # fed; a remainder under 10 ms is one short slice.
            left = dt_ms
            while left > 0:
                ms = 10 if left > 10 else left
                time.sleep_ms(ms)
                left -= ms
                hal.poll(now())
                if left % 1000 < 10:
                    hal.feed()  # once a second: a watchdog is at least 2 s
            self._fresh_ms = now()  # the step took DT_MS of the board's clock
        self.clock_ms = ticks_add(self.clock_ms, dt_ms)
        return self.clock_ms

    def settle(self):
        """Pin-level lockstep, after the tick: the drivers write the new outputs to
        the pins (what the next slice would do), then time.sleep_ms(0) yields:
        the virtual board's outside reads the pins there."""
        hal = self.hal
        now = self._now
        if hal is not None and now is not None:
            import time

            hal.poll(now())
            time.sleep_ms(0)
