# 3-point (floating) valve actuator: one output runs the motor open, the other
# runs it closed, neither means "stay". There is no position feedback, so the
# position is a model that integrates running time against the full-stroke
# travel time, and it is re-anchored by running into an end stop (where the
# actuator's end switch or stall-proof motor stops it): at boot, whenever the
# command is 0 % or 100 %, and after a set amount of accumulated travel.
#
# Pins are only written in poll(): apply() just records the wish.
from core import alarms
from core.compat import const, is_finite
from core.config import ConfigError
from core.ticks import ticks_diff

SYNC_ENDS = ("auto", "open", "closed")
LEVELS = ("high", "low")

PARAMS = (
    ("travel_s", "s", 5.0, 1200.0, 120.0, "full-stroke running time, closed to open"),
    ("min_pulse_ms", "ms", 20, 10000, 500, "moves shorter than this are skipped (deadband)"),
    ("reverse_pause_ms", "ms", 50, 10000, 500, "both outputs off this long before any move"),
    ("sync_overrun", "", 1.05, 3.0, 1.2, "a sync drives travel_s times this into the end stop"),
    ("resync_after_moves", "strokes", 0.0, 1000.0, 10.0,
     "resync after this much accumulated travel; 0 or >= 2 (0: only at 0 % / 100 %)"),
    ("sync_end", SYNC_ENDS, 0, 0, "auto",
     "end stop for boot/periodic syncs; auto: open while running, else nearer stop_pct"),
    ("stop_pct", "%", 0.0, 100.0, 0.0, "position while run is False"),
    ("active", LEVELS, 0, 0, "high", "output level that energises the relay / triac driver"),
)

_IDLE = const(0)
_TRACK = const(1)  # running toward the (live) target, stops when the model reaches it
_OVERDRIVE = const(2)  # model at an end, running on into the end stop
_SYNC = const(3)  # timed run of travel * overrun, position unknown or drifted


class Valve3Point:
    def __init__(self, open_pin, close_pin, params: dict):
        travel_ms = int(params["travel_s"] * 1000.0 + 0.5)
        # A deadband above 5 % of the stroke is too coarse to control flow with.
        if params["min_pulse_ms"] * 20 > travel_ms:
            raise ConfigError("min_pulse_ms", "%s ms is more than 5 %% of travel_s %s s"
                              % (params["min_pulse_ms"], params["travel_s"]))
        # A resync ends with a return move of up to one stroke, which must not
        # use up the next resync's budget by itself.
        if 0.0 < params["resync_after_moves"] < 2.0:
            raise ConfigError("resync_after_moves", "%s strokes: use 0 (off) or at least 2"
                              % params["resync_after_moves"])
        self._open = open_pin
        self._close = close_pin
        self._travel_ms = travel_ms
        self._pct_per_ms = 100.0 / travel_ms
        self._min_pulse_pct = params["min_pulse_ms"] * self._pct_per_ms
        self._pause_ms = params["reverse_pause_ms"]
        self._sync_ms = int(travel_ms * params["sync_overrun"] + 0.5)
        self._extra_ms = self._sync_ms - travel_ms
        self._resync_strokes = params["resync_after_moves"]
        end = params["sync_end"]
        self._sync_end = 1 if end == "open" else (-1 if end == "closed" else 0)
        self._stop = params["stop_pct"]
        self._on = 1 if params["active"] == "high" else 0
        self._wish = self._stop
        self._run = False
        self._started = False
        self._last_ms = 0
        self._off_ms = 0  # when both outputs last went off
        self._ready = False  # both off for the reverse pause: a move may start
        self._phase_ms = 0  # when the current phase began
        self._phase = _IDLE
        self._pos = 0.0
        self._synced = False
        self._parked = 0  # +1 / -1: driven into the open / closed stop, not moved since
        self.direction = 0  # what the outputs do now: +1 opening, -1 closing, 0 off
        self.strokes = 0.0  # accumulated travel since the last end-stop sync
        self.syncs = 0  # completed end-stop syncs, for diagnostics
        self.fault = alarms.VALVE_UNSYNCED
        self.position_pct = None

    def apply(self, output_pct: float, run: bool):
        if is_finite(output_pct):  # nan/inf: keep the last wish
            self._wish = output_pct
        self._run = run

    def safe(self):
        """Fail-safe: both relays off at once. The motor stopped somewhere the
        model does not know exactly, so the next start resyncs at an end stop."""
        off = 1 - self._on
        self._open.value(off)
        self._close.value(off)
        self.direction = 0
        self._phase = _IDLE
        self._run = False
        self._started = False  # a later poll starts over: both off, the reverse pause
        self._synced = False
        self.position_pct = None
        self.fault = alarms.VALVE_UNSYNCED

    @property
    def target_pct(self) -> float:
        t = self._wish if self._run else self._stop
        if t < 0.0:
            return 0.0
        if t > 100.0:
            return 100.0
        return t

    def poll(self, now_ms: int):
        if not self._started:
            # Whatever the pins did before, both off now, and the pause before
            # the first move lets a motor still running from before a reset stop.
            self._started = True
            self._last_ms = now_ms
            self._drive(0, now_ms)
            return
        dt = ticks_diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        d = self.direction
        if d != 0:
            if dt > 0:
                # The motor ran for the whole interval since the last poll,
                # however late this poll is, so the model takes all of it.
                pos = self._pos + d * dt * self._pct_per_ms
                self._pos = 0.0 if pos < 0.0 else (100.0 if pos > 100.0 else pos)
                self.strokes += dt / self._travel_ms
            self._advance(d, now_ms)
        if self.direction == 0:
            # Latched: ticks_diff is only meaningful within half the tick
            # period (6.2 days), and a valve may well rest longer than that.
            if not self._ready and ticks_diff(now_ms, self._off_ms) >= self._pause_ms:
                self._ready = True
            if self._ready:
                self._plan(now_ms)
        if self._synced:
            self.position_pct = self._pos
            self.fault = 0
        else:
            self.position_pct = None
            self.fault = alarms.VALVE_UNSYNCED

    def _advance(self, d: int, now_ms: int):
        phase = self._phase
        elapsed = ticks_diff(now_ms, self._phase_ms)
        if phase == _SYNC:
            if elapsed >= self._sync_ms:
                self._drive(0, now_ms)
                self._at_end(d)
            return
        t = self.target_pct
        if phase == _TRACK:
            if d > 0:
                if t >= 100.0:
                    if self._pos >= 100.0:
                        self._phase = _OVERDRIVE
                        self._phase_ms = now_ms
                elif self._pos >= t:
                    self._drive(0, now_ms)
            else:
                if t <= 0.0:
                    if self._pos <= 0.0:
                        self._phase = _OVERDRIVE
                        self._phase_ms = now_ms
                elif self._pos <= t:
                    self._drive(0, now_ms)
            return
        # _OVERDRIVE: the command left this end: stop at once (no sync credit).
        if (d > 0 and t < 100.0) or (d < 0 and t > 0.0):
            self._drive(0, now_ms)
        elif elapsed >= self._extra_ms:
            self._drive(0, now_ms)
            self._at_end(d)

    def _plan(self, now_ms: int):
        if not self._synced or (self._resync_strokes > 0.0
                                and self.strokes >= self._resync_strokes):
            self._start(self._sync_direction(), _SYNC, now_ms)
            return
        t = self.target_pct
        if t >= 100.0:
            if self._parked != 1:
                self._start(1, _TRACK, now_ms)
            return
        if t <= 0.0:
            if self._parked != -1:
                self._start(-1, _TRACK, now_ms)
            return
        err = t - self._pos
        if err >= self._min_pulse_pct:
            self._start(1, _TRACK, now_ms)
        elif -err >= self._min_pulse_pct:
            self._start(-1, _TRACK, now_ms)

    def _sync_direction(self) -> int:
        if self._sync_end != 0:
            return self._sync_end
        # Full flow is the safe side for a running heat pump (no freeze trip,
        # no high head pressure); a stopped one is synced toward where it rests.
        if self._run:
            return 1
        return 1 if self._stop >= 50.0 else -1

    def _start(self, d: int, phase: int, now_ms: int):
        self._parked = 0
        self._phase = phase
        self._phase_ms = now_ms
        self._drive(d, now_ms)

    def _at_end(self, d: int):
        self._pos = 100.0 if d > 0 else 0.0
        self._synced = True
        self._parked = d
        self.strokes = 0.0
        self.syncs += 1

    def _drive(self, d: int, now_ms: int):
        # The interlock: the other output is always written off before one is
        # written on, and a move only starts from both-off after the pause
        # (_plan), so the two are never on together, not even for one write.
        on = self._on
        off = 1 - on
        if d > 0:
            self._close.value(off)
            self._open.value(on)
        elif d < 0:
            self._open.value(off)
            self._close.value(on)
        else:
            self._open.value(off)
            self._close.value(off)
            self._phase = _IDLE
            self._off_ms = now_ms
            self._ready = False
        self.direction = d
