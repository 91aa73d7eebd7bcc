# The power-cut campaign (issue 16, "A store that cannot brick"): the power
# fails at every file operation of a save (and, in the long run, at random
# operations of saves and of the boot's own recovery, with writes torn at
# random points), then the board boots. Checked each time: the boot comes up on
# a stored config (never defaults, never an exception), no acknowledged save is
# lost -- the config is the newest acknowledged one, or the save that was in
# flight -- and never the one before it. Portable (pytest and the host
# MicroPython); the long campaign is pytest-only (-m slow). Figures:
# docs/reliability.md.
from test_store_matrix import FakeFlash, PowerCut, boot, save

try:
    import pytest
except ImportError:  # MicroPython: the fast campaign only
    pytest = None


class Tally:
    def __init__(self):
        self.cuts = 0
        self.boots = 0
        self.lost = 0  # a boot on something older than the newest acknowledged save
        self.failed = 0  # a boot on defaults or a fallback copy (one that raises fails at once)
        self.inflight = 0  # boots that came up on the save the cut interrupted
        self.saves = 0  # saves that completed (acknowledged)


def _booted(tally, flash, acked, inflight):
    """Boot (no cut) and check; returns the kp now current."""
    tally.boots += 1
    source, kp, fallback = boot(flash)  # a boot that raises fails the test
    if source == "defaults" or fallback:
        tally.failed += 1
        raise AssertionError("boot came up on %s, fallback %s" % (source, fallback))
    if kp == inflight:
        tally.inflight += 1
    elif kp != acked:
        tally.lost += 1
        raise AssertionError("booted %r: newest acknowledged %r, in flight %r"
                             % (kp, acked, inflight))
    return kp


def _ops_of_a_save(flash, kp):
    trial = flash.copy()
    save(trial, kp)
    return trial.ops


def cut_every_operation(tally, flash, acked, kp, torn=4):
    """From this flash (acked current), a save of kp cut at each of its operations
    in turn, each followed by a boot and then an uncut save and a boot."""
    n = _ops_of_a_save(flash, kp)
    for at in range(1, n + 1):
        f = flash.copy()
        f.cut_at = at
        f.torn = torn
        try:
            save(f, kp)
        except PowerCut:
            tally.cuts += 1
        else:
            raise AssertionError("the save did not reach operation %d of %d" % (at, n))
        f.cut_at = -1
        f.ops = 0
        now = _booted(tally, f, acked, kp)
        save(f, 0.99)  # the next save from whatever the cut left
        _booted(tally, f, 0.99, None)
        assert now in (acked, kp)
    return n


def _saved_twice():
    flash = FakeFlash()
    save(flash, 0.11)
    save(flash, 0.12)
    return flash


def test_a_cut_at_every_operation_of_a_save_loses_nothing():
    tally = Tally()
    n = cut_every_operation(tally, _saved_twice(), 0.12, 0.13)
    assert n >= 10 and tally.cuts == n and tally.lost == 0 and tally.failed == 0
    assert 0 < tally.inflight < n  # early cuts keep the old config, late ones the new


def test_a_cut_at_every_operation_of_the_first_save_loses_nothing():
    tally = Tally()
    flash = FakeFlash()
    save(flash, 0.11)  # only config.json: no backup yet
    cut_every_operation(tally, flash, 0.11, 0.13, torn=7)
    assert tally.lost == 0 and tally.failed == 0


def test_a_save_from_a_config_left_in_config_tmp_cannot_destroy_it():
    # A flash error during the boot's recovery left the newest config (0.12, saved
    # and acknowledged) in config.tmp and the one before in config.bak; the board
    # booted it from config.tmp. Its next save must not write over that file
    # while it is the only copy of 0.12 (issue 16, defect 3).
    flash = _saved_twice()
    flash.files["config.tmp"] = flash.files.pop("config.json")
    flash.readonly = True  # the recovery cannot rename it
    assert boot(flash) == ("tmp", 0.12, True)
    flash.readonly = False
    flash.ops = 0
    tally = Tally()
    cut_every_operation(tally, flash, 0.12, 0.13)
    assert tally.lost == 0 and tally.failed == 0


def _lcg(x):
    return (x * 1103515245 + 12345) & 0x7FFFFFFF


def random_campaign(cuts_wanted, seed):
    """Saves in a row, each cut at a random operation (or not cut at all), writes
    torn at random points, and cuts during the boot's recovery too."""
    tally = Tally()
    flash = FakeFlash()
    save(flash, 0.01)
    acked = 0.01
    x = seed
    kp = 0.01
    while tally.cuts < cuts_wanted:
        kp = 0.02 if kp >= 0.98 else round(kp + 0.01, 2)
        if kp == acked:
            kp = round(kp + 0.01, 2)
        x = _lcg(x)
        flash.ops = 0
        flash.cut_at = 1 + (x >> 8) % 40  # a save takes fewer: some saves complete
        flash.torn = (x >> 4) % 9
        try:
            save(flash, kp)
        except PowerCut:
            tally.cuts += 1
        else:
            acked = kp
            tally.saves += 1
            continue
        x = _lcg(x)
        while (x >> 8) % 3 == 0:  # a cut during the boot's recovery, maybe again
            flash.ops = 0
            flash.cut_at = 1 + (x >> 12) % 12
            try:
                boot(flash)
            except PowerCut:
                tally.cuts += 1
            x = _lcg(x)
        flash.ops = 0
        flash.cut_at = -1
        acked = _booted(tally, flash, acked, kp)  # what booted is the config now
    return tally


def test_random_power_cuts_lose_nothing():
    tally = random_campaign(40, 12345)
    assert tally.cuts >= 40 and tally.lost == 0 and tally.failed == 0


if pytest is not None:

    @pytest.mark.slow
    def test_random_power_cuts_lose_nothing_long_campaign():
        tally = random_campaign(10000, 20261130)
        print("cuts %d saves %d boots %d lost %d failed %d in-flight %d"
              % (tally.cuts, tally.saves, tally.boots, tally.lost, tally.failed, tally.inflight))
        assert tally.cuts >= 10000 and tally.lost == 0 and tally.failed == 0
