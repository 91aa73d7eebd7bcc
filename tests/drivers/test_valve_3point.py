"""3-point valve driver: interlock, reverse pause, deadband, position model and
end-stop resync, checked against a simulated actuator driven by the pins."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.params import validate
from drivers.valve_3point import PARAMS, Valve3Point
from host_tools.twins import make_machine
from twin_io import profile_pin

FAST = {"travel_s": 10.0, "min_pulse_ms": 200, "reverse_pause_ms": 300}


class Rig:
    """The driver on the profile's valve pins of a fresh board, logging every
    write (the time and both outputs' states after it) into a journal, and the
    actuator those pins drive: it opens and closes at `speed_open` /
    `speed_close` times the rated travel speed and stops at the ends (end
    switches), starting from an unknown position."""

    def __init__(self, port, start_ms=0, phys_pct=37.0, speed_open=1.0, speed_close=1.0,
                 **given):
        self.m = m = make_machine(port)
        self.w = m.world
        self.clock = self.w.clock
        self.clock.advance_us(start_ms * 1000)
        self.journal = []  # (ms, open_on, close_on) after every write
        self.params = validate(PARAMS, dict(given), "valve")
        self.active = 1 if self.params["active"] == "high" else 0
        rig = self

        class LoggedPin(m.Pin):
            def value(self, *x):
                out = super().value(*x)
                if x:
                    rig.log(self)
                return out

        # As the board HAL builds them: outputs, released from the start.
        off = 1 - self.active
        self.open_id = profile_pin(port, "valve_3point.open")
        self.close_id = profile_pin(port, "valve_3point.close")
        self.open = LoggedPin(self.open_id, m.Pin.OUT, value=off)
        self.close = LoggedPin(self.close_id, m.Pin.OUT, value=off)
        self.valve = Valve3Point(self.open, self.close, self.params)
        self.travel_ms = self.params["travel_s"] * 1000.0
        self.phys = phys_pct
        self.speed_open = speed_open
        self.speed_close = speed_close
        self.t_ms = 0  # unwrapped test time
        self.positions = []  # model position after every poll (synced only)

    def log(self, pin):
        self.journal.append((self.t_ms, self.is_on(self.open_id), self.is_on(self.close_id)))

    def is_on(self, pin_id):
        """The output as the actuator sees it (the pin's level on the board)."""
        return self.w.level(pin_id) == self.active

    def step(self, ms=10):
        d = (self.is_on(self.open_id) * self.speed_open
             - self.is_on(self.close_id) * self.speed_close)
        pos = self.phys + d * ms * 100.0 / self.travel_ms
        self.phys = min(100.0, max(0.0, pos))
        self.clock.advance_ms(ms)
        self.t_ms += ms
        self.valve.poll(self.clock.ticks_ms())
        if self.valve.position_pct is not None:
            self.positions.append(self.valve.position_pct)

    def run(self, seconds, ms=10):
        for _ in range(int(seconds * 1000 / ms)):
            self.step(ms)

    def run_until(self, predicate, seconds, ms=10):
        for _ in range(int(seconds * 1000 / ms)):
            self.step(ms)
            if predicate():
                return True
        return False

    def boot(self, output_pct=0.0, run=False):
        """First poll, then the boot sync to its end."""
        self.valve.apply(output_pct, run)
        self.valve.poll(self.clock.ticks_ms())
        synced = self.run_until(lambda: self.valve.fault == 0,
                                self.params["travel_s"] * self.params["sync_overrun"] + 2)
        assert synced

    # ---- checks over the whole journal ----
    def check_never_both_on(self):
        assert self.journal, "no writes at all"
        for t, o, c in self.journal:
            assert not (o and c), f"both outputs on at {t} ms"

    def starts(self):
        """(ms, direction, ms both outputs had been off before it) per move start."""
        out = []
        prev = (False, False)
        off_since = None
        for t, o, c in self.journal:
            if (o or c) and not (prev[0] or prev[1]):
                out.append((t, 1 if o else -1, None if off_since is None else t - off_since))
            if not (o or c) and (prev[0] or prev[1] or off_since is None):
                off_since = t
            prev = (o, c)
        return out

    def check_pause(self):
        pause = self.params["reverse_pause_ms"]
        for t, _, off_ms in self.starts():
            assert off_ms is not None and off_ms >= pause, f"start at {t} ms after {off_ms} ms off"

    def check_all(self):
        self.check_never_both_on()
        self.check_pause()
        for p in self.positions:
            assert 0.0 <= p <= 100.0


def deadband_pct(rig):
    return rig.params["min_pulse_ms"] * 100.0 / rig.travel_ms


def poll_pct(rig, ms=10):
    return ms * 100.0 / rig.travel_ms


# ---- boot sync -------------------------------------------------------------

def test_unsynced_at_boot_and_drives_closed_for_travel_times_overrun(port):
    rig = Rig(port, **FAST)
    v = rig.valve
    assert v.fault == alarms.VALVE_UNSYNCED and v.position_pct is None
    v.poll(rig.clock.ticks_ms())
    assert rig.journal and not any(o or c for _, o, c in rig.journal)  # first poll: both off
    rig.run(0.2)
    assert v.direction == 0  # reverse pause before the first move
    rig.run(0.2)
    assert v.direction == -1  # stopped unit, stop_pct 0: sync closed
    sync_ms = FAST["travel_s"] * 1000 * 1.2
    rig.run(sync_ms / 1000 - 0.5)
    assert v.fault == alarms.VALVE_UNSYNCED and v.position_pct is None
    assert rig.run_until(lambda: v.fault == 0, 1.0)
    assert v.position_pct == 0.0 and rig.phys == 0.0
    assert v.direction == 0 and v.syncs == 1
    start, _, _ = rig.starts()[0]
    assert rig.journal[-1][0] - start == pytest.approx(sync_ms, abs=10)
    rig.check_all()


def test_boot_sync_opens_while_the_unit_runs_then_goes_to_the_command(port):
    rig = Rig(port, phys_pct=80.0, **FAST)
    rig.boot(30.0, True)
    assert rig.valve.position_pct == 100.0 and rig.phys == 100.0
    assert rig.starts()[0][1] == 1
    rig.run(12)
    assert abs(rig.valve.position_pct - 30.0) <= deadband_pct(rig)
    assert rig.phys == pytest.approx(rig.valve.position_pct)
    rig.check_all()


@pytest.mark.parametrize("end, run, stop, direction", [
    ("closed", True, 0.0, -1),
    ("open", False, 0.0, 1),
    ("auto", False, 100.0, 1),
    ("auto", False, 40.0, -1),
])
def test_sync_end_choice(port, end, run, stop, direction):
    rig = Rig(port, sync_end=end, stop_pct=stop, **FAST)
    rig.boot(50.0, run)
    assert rig.starts()[0][1] == direction
    assert rig.valve.position_pct == (100.0 if direction == 1 else 0.0)


def test_position_unknown_until_sync_even_if_commands_arrive(port):
    rig = Rig(port, **FAST)
    rig.valve.apply(60.0, True)
    rig.valve.poll(rig.clock.ticks_ms())
    for pct in (10.0, 90.0, 0.0, 100.0):
        rig.valve.apply(pct, True)
        rig.run(2)
        assert rig.valve.position_pct is None
        assert rig.valve.fault == alarms.VALVE_UNSYNCED
    assert rig.valve.direction == 1  # the sync is not interrupted by new commands
    rig.run_until(lambda: rig.valve.fault == 0, 10)
    assert rig.valve.fault == 0


# ---- moving ---------------------------------------------------------------

@pytest.mark.parametrize("targets", [(30.0, 70.0, 69.0, 12.5, 55.0), (99.0, 1.0, 50.0)])
def test_reaches_commanded_positions_within_one_min_pulse(port, targets):
    rig = Rig(port, **FAST)
    rig.boot()
    last = 0.0
    for t in targets:
        rig.valve.apply(t, True)
        rig.run(12)
        pos = rig.valve.position_pct
        # Within the deadband, plus the one poll the stop can come late by.
        assert abs(pos - t) <= deadband_pct(rig) + poll_pct(rig)
        assert rig.phys == pytest.approx(pos)
        if abs(t - last) >= deadband_pct(rig):
            assert abs(pos - t) <= poll_pct(rig)  # a move that ran ends on target
            last = t
    rig.check_all()


def test_min_pulse_deadband_skips_short_moves(port):
    rig = Rig(port, **FAST)
    rig.boot()
    rig.valve.apply(40.0, True)
    rig.run(6)
    before = len(rig.journal)
    pos = rig.valve.position_pct
    small = deadband_pct(rig) * 0.9
    for t in (pos + small, pos - small, pos + small / 2):
        rig.valve.apply(t, True)
        rig.run(1)
    assert len(rig.journal) == before  # no output moved
    assert rig.valve.position_pct == pos
    rig.valve.apply(pos + deadband_pct(rig) * 1.1, True)
    rig.run(1)
    assert len(rig.journal) > before
    assert rig.valve.position_pct == pytest.approx(pos + deadband_pct(rig) * 1.1,
                                                   abs=poll_pct(rig))
    rig.check_all()


def test_reverse_pause_between_direction_changes(port):
    rig = Rig(port, **FAST)
    rig.boot()
    rig.valve.apply(80.0, True)
    rig.run(2)
    assert rig.valve.direction == 1
    rig.valve.apply(10.0, True)
    rig.step()
    assert rig.valve.direction == 0  # stops at once...
    stopped = rig.t_ms
    assert rig.run_until(lambda: rig.valve.direction == -1, 2)
    assert rig.t_ms - stopped >= FAST["reverse_pause_ms"]  # ...and waits before reversing
    assert rig.t_ms - stopped <= FAST["reverse_pause_ms"] + 10
    rig.run(10)
    assert abs(rig.valve.position_pct - 10.0) <= poll_pct(rig)
    reversals = [s for s in rig.starts() if s[1] == -1]
    assert len(reversals) == 2  # boot sync, then the reversal
    rig.check_all()


def test_run_false_goes_to_stop_pct(port):
    rig = Rig(port, stop_pct=25.0, **FAST)
    rig.boot(70.0, True)
    rig.run(12)
    rig.valve.apply(70.0, False)
    rig.run(12)
    assert abs(rig.valve.position_pct - 25.0) <= poll_pct(rig)
    rig.check_all()


def test_nan_command_keeps_the_last_wish(port):
    rig = Rig(port, **FAST)
    rig.boot()
    rig.valve.apply(45.0, True)
    rig.run(8)
    rig.valve.apply(float("nan"), True)
    rig.run(2)
    assert abs(rig.valve.position_pct - 45.0) <= poll_pct(rig)


def test_apply_does_no_io(port):
    rig = Rig(port, **FAST)
    rig.boot()
    n = len(rig.journal)
    rig.valve.apply(90.0, True)
    rig.valve.apply(10.0, True)
    assert len(rig.journal) == n


# ---- end stops and drift ----------------------------------------------------

def test_end_commands_overdrive_into_the_stop_and_resync_a_drifted_model(port):
    # The real actuator closes 15 % faster than rated (the water pushes the
    # plug shut): every closing move leaves the model further above the valve.
    rig = Rig(port, speed_close=1.15, resync_after_moves=0.0, **FAST)
    rig.boot()
    for t in (60.0, 20.0, 80.0, 35.0):
        rig.valve.apply(t, True)
        rig.run(12)
    assert abs(rig.phys - rig.valve.position_pct) > 5.0  # drifted
    syncs = rig.valve.syncs
    rig.valve.apply(0.0, True)
    rig.run(12)
    assert rig.valve.position_pct == 0.0 and rig.phys == 0.0
    assert rig.valve.syncs == syncs + 1
    # Parked: holding the end command does not keep switching the outputs.
    n = len(rig.journal)
    rig.run(5)
    assert len(rig.journal) == n and rig.valve.direction == 0
    rig.valve.apply(100.0, True)
    rig.run(15)
    assert rig.valve.position_pct == 100.0 and rig.phys == 100.0
    assert rig.valve.syncs == syncs + 2
    # The open run lasted the modelled stroke plus the overrun into the stop.
    t_on, _, _ = rig.starts()[-1]
    t_off = max(t for t, o, c in rig.journal if not (o or c))
    assert t_off - t_on == pytest.approx(FAST["travel_s"] * 1000 * 1.2, abs=30)
    rig.check_all()


def test_leaving_an_end_during_the_overdrive_stops_without_sync_credit(port):
    rig = Rig(port, **FAST)
    rig.boot()
    rig.valve.apply(95.0, True)
    rig.run(12)
    syncs = rig.valve.syncs
    rig.valve.apply(100.0, True)
    assert rig.run_until(lambda: rig.valve.position_pct == 100.0, 2)
    rig.run(0.5)
    assert rig.valve.direction == 1  # overdriving
    rig.valve.apply(50.0, True)
    rig.step()
    assert rig.valve.direction == 0
    assert rig.valve.syncs == syncs
    rig.check_all()


def test_periodic_resync_after_accumulated_travel(port):
    rig = Rig(port, resync_after_moves=2.0, **FAST)
    rig.boot(50.0, True)  # synced open, then 0.5 strokes down to 50 %
    rig.run(12)
    syncs = rig.valve.syncs
    for t in (70.0, 30.0, 70.0, 30.0):
        rig.valve.apply(t, True)
        rig.run(8)
        assert rig.valve.direction == 0 and rig.valve.syncs == syncs
    assert rig.valve.strokes == pytest.approx(1.9, abs=0.01)
    rig.valve.apply(70.0, True)
    rig.run(8)  # 0.4 strokes more: over budget, so a sync runs after this move
    assert rig.valve.direction == 1  # toward open, the unit being running
    assert rig.valve.fault == 0 and rig.valve.position_pct is not None
    rig.run(15)
    assert rig.valve.syncs == syncs + 1
    assert rig.valve.strokes == pytest.approx(0.3, abs=0.01)  # just the way back
    assert abs(rig.valve.position_pct - 70.0) <= poll_pct(rig)
    assert rig.phys == pytest.approx(rig.valve.position_pct)
    rig.check_all()


def test_resync_budget_below_two_strokes_is_a_config_error(port):
    params = validate(PARAMS, {"resync_after_moves": 1.5}, "valve")
    with pytest.raises(ConfigError) as exc:
        m = make_machine(port)
        Valve3Point(m.Pin(1, m.Pin.OUT), m.Pin(2, m.Pin.OUT), params)
    assert exc.value.key == "resync_after_moves"


# ---- ticks wrap ---------------------------------------------------------------

def test_position_model_across_the_tick_wrap(port):
    boot_ms = (1 << 30) - 3000  # wraps 3 s after boot, in the middle of the boot sync
    rig = Rig(port, start_ms=boot_ms, **FAST)
    rig.boot()
    assert rig.clock.ticks_ms() < boot_ms  # the clock has wrapped
    start, _, _ = rig.starts()[0]
    assert rig.journal[-1][0] - start == pytest.approx(12000, abs=10)
    rig.valve.apply(64.0, True)
    rig.run(10)
    assert abs(rig.valve.position_pct - 64.0) <= poll_pct(rig)
    assert rig.phys == pytest.approx(rig.valve.position_pct)
    rig.check_all()


def test_a_move_spanning_the_wrap(port):
    rig = Rig(port, start_ms=(1 << 30) - 16000, **FAST)
    rig.boot()  # ~12.3 s: the wrap comes ~3.7 s later, during this move
    rig.valve.apply(90.0, True)
    rig.run(12)
    assert abs(rig.valve.position_pct - 90.0) <= poll_pct(rig)
    assert rig.phys == pytest.approx(rig.valve.position_pct)
    rig.check_all()


def test_moves_after_resting_longer_than_half_the_tick_period(port):
    rig = Rig(port, **FAST)
    rig.boot()
    rig.run(7 * 24 * 3600, ms=60000)  # a week parked closed: 2**29 ms is 6.2 days
    rig.valve.apply(50.0, True)
    rig.step()
    assert rig.valve.direction == 1
    rig.run(6)
    assert abs(rig.valve.position_pct - 50.0) <= poll_pct(rig)
    rig.check_all()


# ---- active-low outputs, config ------------------------------------------------

def test_active_low_outputs(port):
    rig = Rig(port, active="low", **FAST)
    rig.boot(50.0, True)
    rig.valve.apply(20.0, True)
    rig.run(12)
    assert rig.w.level(rig.open_id) == 1 and rig.w.level(rig.close_id) == 1  # idle: released
    assert abs(rig.valve.position_pct - 20.0) <= poll_pct(rig)
    rig.check_all()


def test_min_pulse_too_long_for_the_travel_is_a_config_error(port):
    params = validate(PARAMS, {"travel_s": 10.0, "min_pulse_ms": 600}, "valve")
    with pytest.raises(ConfigError) as exc:
        m = make_machine(port)
        Valve3Point(m.Pin(1, m.Pin.OUT), m.Pin(2, m.Pin.OUT), params)
    assert exc.value.key == "min_pulse_ms"



# ---- random command sequences ------------------------------------------------

commands = st.lists(
    st.tuples(
        st.one_of(st.floats(-20.0, 120.0), st.sampled_from([0.0, 100.0, 50.0])),
        st.booleans(),
        st.integers(1, 80),  # how many polls the command is held
        st.integers(1, 60),  # poll interval, ms (the HAL's 10 ms, with jitter)
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(commands, st.floats(0.0, 100.0), st.integers(0, (1 << 30) - 1),
       st.sampled_from(["auto", "open", "closed"]), st.sampled_from([0.0, 2.0, 3.5]))
def test_random_commands_keep_the_interlock_and_the_model_in_range(
        port, seq, phys, start_ms, end, resync):
    rig = Rig(port, start_ms=start_ms, phys_pct=phys, travel_s=5.0, min_pulse_ms=100,
              reverse_pause_ms=100, sync_end=end, resync_after_moves=resync)
    rig.valve.poll(rig.clock.ticks_ms())
    for pct, run, polls, ms in seq:
        rig.valve.apply(pct, run)
        for _ in range(polls):
            rig.step(ms)
            pos = rig.valve.position_pct
            assert (pos is None) == (rig.valve.fault == alarms.VALVE_UNSYNCED)
    rig.check_all()
    # Held long enough (a move, a resync, the way back), any command is reached.
    rig.run(20)
    pct, run = seq[-1][0], seq[-1][1]
    target = min(100.0, max(0.0, pct if run else 0.0))
    assert rig.valve.fault == 0
    assert abs(rig.valve.position_pct - target) <= deadband_pct(rig) + poll_pct(rig)
    assert rig.phys == pytest.approx(rig.valve.position_pct, abs=1e-6)
    rig.check_all()
