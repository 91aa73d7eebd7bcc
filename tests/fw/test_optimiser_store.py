# What the on-line optimiser learned survives a reboot with the coefficients
# (store.ConfigStore, boot_config), is refused when it fails validation (the
# boot takes the copy before), is reset by `opt reset`; and `opt` answers.
# Portable: CPython and the host MicroPython.

import boot_config

from app import App
from console import Console
from core import alarms, learned
from core.controller import Controller
from core.optimiser import HOLD, SEEK
from fakeapp import FakeApp
from fwtest import empty_folder, remove_folder
from store import SOURCE_BACKUP, SOURCE_CURRENT, ConfigStore

_DIR = "opt_store_test_flash"


class StoreApp(FakeApp):
    def __init__(self):
        FakeApp.__init__(self)
        self._folder = _DIR

    @property
    def store(self):
        return ConfigStore(_DIR)

    def apply_stored(self, cfg):
        self.controller.apply_config({"params": cfg["params"], "coeffs": cfg["coeffs"]})

    def save_config(self):  # what App.save_config stores
        cfg = self.controller.config
        self.store.save({"params": cfg["params"], "coeffs": learned.coeffs_to_save(
            self.controller), "pin": ""})


def _fresh():
    empty_folder(_DIR)


def _gone():
    remove_folder(_DIR)


def _learn(c, cooling, heating):
    c.opt.offset[1] = cooling
    c.opt.offset[2] = heating
    c.opt.conf[1] = 4
    c.opt.conf[2] = 1


def test_learned_optimum_survives_a_reboot_per_season():
    _fresh()
    try:
        app = StoreApp()
        _learn(app.controller, -20.0, 7.5)
        app.save_config()
        booted = StoreApp()  # a reboot: a fresh controller from the flash
        assert booted.controller.opt.offset[1] == 0.0
        assert boot_config.chosen(booted) == SOURCE_CURRENT
        opt = booted.controller.opt
        assert abs(opt.offset[1] + 20.0) < 1e-6 and abs(opt.offset[2] - 7.5) < 1e-6
        assert opt.conf[1] == 4 and opt.conf[2] == 1
    finally:
        _gone()


def test_a_saved_learned_entry_that_fails_validation_is_refused_at_boot():
    _fresh()
    try:
        app = StoreApp()
        _learn(app.controller, -20.0, 7.5)
        app.save_config()  # a good copy, which becomes the backup
        cfg = app.controller.config
        bad = learned.coeffs_to_save(app.controller)
        bad["learned"] = {"cooling": [500.0, 27.6, 1]}  # above p_max_cooling
        app.store.save({"params": cfg["params"], "coeffs": bad, "pin": ""})
        booted = StoreApp()
        assert boot_config.chosen(booted) == SOURCE_BACKUP
        assert booted.controller.sticky_alarms & alarms.CONFIG_FALLBACK
        assert abs(booted.controller.opt.offset[1] + 20.0) < 1e-6
    finally:
        _gone()


def test_opt_reset_forgets_and_the_next_save_keeps_that():
    _fresh()
    try:
        app = StoreApp()
        _learn(app.controller, -20.0, 7.5)
        console = Console(app, lambda line: None)
        assert console.respond(b"opt reset cooling").startswith("ok reset=cooling")
        assert app.controller.opt.offset[1] == 0.0 and app.controller.opt.offset[2] == 7.5
        assert console.respond(b"opt reset spring").startswith("err E_SYNTAX")
        assert console.respond(b"opt reset").startswith("ok reset=both")
        app.save_config()
        booted = StoreApp()
        boot_config.chosen(booted)
        assert booted.controller.opt.offset[2] == 0.0 and booted.controller.opt.conf[2] == 0
    finally:
        _gone()


def test_opt_shows_state_estimate_learned_optimum_and_confidence():
    app = FakeApp()
    c = app.controller
    _learn(c, -20.0, 7.5)
    console = Console(app, lambda line: None)
    reply = console.respond(b"opt")
    assert reply.startswith("ok optimiser=online state=hold "), reply
    for word in ("sp=", "centre=", "p_model=", "grad=", "cop_meas=", "confidence=", "guard=0 ",
                 "learned cooling=71.6@27.6/4 heating=62@11.5/1"):
        assert word in reply, (word, reply)
    c.set_param("cutout_margin_k", 0.0)
    assert " guard=off " in console.respond(b"opt")
    console.locked = True
    assert console.respond(b"opt").startswith("ok ")  # a read
    assert console.respond(b"opt reset").startswith("err E_LOCKED")


def test_a_new_controller_without_learned_starts_from_the_model():
    c = Controller()
    assert c.opt.offset[1] == 0.0 and c.opt.offset[2] == 0.0
    assert learned.export(c)["cooling"][2] == 0


class _Loop:
    def now(self):
        return 0

    def restart(self):
        pass


class HilApp(App):
    """The app as far as starting and stopping a HIL session."""

    def __init__(self, controller):
        self.controller = controller
        self._hil = None
        self.loop = _Loop()
        self._tick_ms = 0


def test_hil_start_and_stop_hold_it():
    from test_optimiser import Plant, _controller, _run

    from hil import LOCKSTEP

    c = _controller(hil="allowed")
    plant = Plant(best=72.0)
    now = _run(c, plant, 0, 60)
    assert c.opt.state == SEEK
    app = HilApp(c)
    app.hil_start(LOCKSTEP)
    assert c.opt.state == HOLD and c.opt._ms == 0
    now = _run(c, plant, now, 20)
    assert c.opt.state == SEEK
    app.hil_stop()
    assert c.opt.state == HOLD and c.opt._ms == 0
