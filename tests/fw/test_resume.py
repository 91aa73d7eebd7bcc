# The running config across a break into the REPL (console_extra.keep, boot_config.resumed,
# issue 16): kept in its own checksummed file, applied once at the next boot,
# never written over the saved config; a torn or invalid one is dropped.
# Portable: CPython and the host MicroPython.
import os

import boot_config
import console_extra

from fakeapp import FakeApp
from fwtest import empty_folder, remove_folder

_DIR = "resume_test_flash"


class ResumeApp(FakeApp):
    def __init__(self):
        FakeApp.__init__(self)
        self._folder = _DIR
        self.changed = 0

    def apply_stored(self, cfg):
        self.controller.apply_config({"params": cfg["params"], "coeffs": cfg["coeffs"]})
        self.pin = cfg.get("pin", "")

    def config_changed(self):
        self.changed += 1


def _fresh():
    empty_folder(_DIR)


def _path():
    return _DIR + "/resume.json"


def _gone():
    remove_folder(_DIR)


def test_the_running_config_comes_back_once_and_only_in_its_own_file():
    _fresh()
    app = ResumeApp()
    app.controller.set_param("ti_s", 33.0)
    app.pin = "4321"
    console_extra.keep(app)
    assert os.listdir(_DIR) == ["resume.json"]  # no config.json written
    booted = ResumeApp()
    assert boot_config.resumed(booted)
    assert booted.controller.config["params"]["ti_s"] == 33.0 and booted.pin == "4321"
    assert booted.changed == 1
    assert os.listdir(_DIR) == []  # once
    assert not boot_config.resumed(ResumeApp())
    _gone()


def test_a_torn_kept_config_is_dropped():
    _fresh()
    app = ResumeApp()
    app.controller.set_param("ti_s", 33.0)
    console_extra.keep(app)
    with open(_path(), "rb") as f:
        data = f.read()
    with open(_path(), "wb") as f:
        f.write(data[: len(data) // 2])  # a power cut while it was written
    booted = ResumeApp()
    assert not boot_config.resumed(booted)
    assert booted.controller.config["params"]["ti_s"] == 15.0
    assert os.listdir(_DIR) == []
    _gone()


def test_a_kept_config_this_firmware_refuses_is_dropped():
    _fresh()
    app = ResumeApp()
    app.controller.config["params"]["ti_s"] = -5.0  # out of range (an older firmware's)
    console_extra.keep(app)
    booted = ResumeApp()
    assert not boot_config.resumed(booted)
    assert booted.controller.config["params"]["ti_s"] == 15.0
    assert os.listdir(_DIR) == []
    _gone()
