# The corrupt-flash matrix (issue 16, "A store that cannot brick"): every kind
# of damaged copy is skipped at boot, the good copy boots, and with every copy
# bad the board comes up on defaults with CONFIG_FALLBACK. Portable: runs under
# pytest and on the host MicroPython (run_fw_tests.py). The flash is a small
# in-memory file system put under the store (FakeFlash, also used by the
# power-cut campaign in test_store_cuts.py): it counts every file operation,
# can cut the power at any of them, and records the biggest read.
import hashlib
import json
import os
from binascii import hexlify

import boot_config

import store as store_mod
from app import App
from core import alarms
from core import config as config_mod
from core.controller import Controller
from store import MAX_BYTES, ConfigStore

try:
    import builtins
except ImportError:  # pragma: no cover - every MicroPython port we use has it
    builtins = None


class PowerCut(BaseException):
    """The power failed: nothing after this file operation happened. A
    BaseException, so no `except Exception` in the firmware can swallow it."""


class FakeFlash:
    def __init__(self, files=None):
        self.files = dict(files) if files else {}
        self.ops = 0
        self.cut_at = -1  # the operation (1-based count) at which the power fails
        self.torn = 4  # of a write that is cut: eighths of its bytes that reach the flash
        self.fail_at = -1  # the operation that fails with OSError (a flash error)
        self.unreadable = ()  # paths whose reads fail with OSError
        self.readonly = False  # removes, renames and opens for writing fail (EROFS)
        self.largest_read = 0

    def copy(self):
        return FakeFlash(self.files)

    def op(self):
        self.ops += 1
        if self.ops == self.cut_at:
            raise PowerCut()
        if self.ops == self.fail_at:
            raise OSError(5)  # EIO

    def _writable(self):
        if self.readonly:
            raise OSError(30)  # EROFS

    # os, as the store uses it
    def stat(self, path):
        self.op()
        if path not in self.files:
            raise OSError(2)
        return (0x8000, 0, 0, 0, 0, 0, len(self.files[path]), 0, 0, 0)

    def remove(self, path):
        self.op()
        self._writable()
        if path not in self.files:
            raise OSError(2)
        del self.files[path]

    def rename(self, old, new):
        self.op()
        self._writable()
        if old not in self.files:
            raise OSError(2)
        self.files[new] = self.files.pop(old)

    def sync(self):
        self.op()

    def open(self, path, mode="r"):
        self.op()
        if "w" in mode:
            self._writable()
            self.files[path] = b""
            return _Writer(self, path)
        if path not in self.files:
            raise OSError(2)
        return _Reader(self, path)


class _File:
    def __init__(self, flash, path):
        self.flash = flash
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.flash.op()

    def flush(self):
        self.flash.op()


class _Writer(_File):
    def write(self, data):
        fl = self.flash
        fl.ops += 1
        if fl.ops == fl.cut_at:  # torn: the first part of this write reached the flash
            fl.files[self.path] += bytes(data[:len(data) * fl.torn // 8])
            raise PowerCut()
        if fl.ops == fl.fail_at:
            raise OSError(28)  # ENOSPC
        fl.files[self.path] += bytes(data)
        return len(data)


class _Reader(_File):
    pos = 0

    def read(self, n=-1):
        fl = self.flash
        fl.op()
        if self.path in fl.unreadable:
            raise OSError(5)
        data = fl.files[self.path]
        end = len(data) if n is None or n < 0 else min(len(data), self.pos + n)
        out = data[self.pos:end]
        self.pos = end
        if len(out) > fl.largest_read:
            fl.largest_read = len(out)
        return out


class on_flash:  # noqa: N801 - reads as a phrase: `with on_flash(flash):`
    """The store's os and open are the fake flash's for the block."""

    def __init__(self, flash):
        self.flash = flash

    def __enter__(self):
        store_mod.os = self.flash
        store_mod.open = self.flash.open
        return self.flash

    def __exit__(self, *exc):
        store_mod.os = os
        if builtins is not None:
            store_mod.open = builtins.open
        else:  # pragma: no cover
            del store_mod.open


class BootApp(App):
    """The app as far as its boot-config load: a fresh controller and the store."""

    def __init__(self):
        self._folder = ""
        self.controller = Controller()
        self.pin = ""


def boot(flash):
    """Boot on this flash: (source, kp, fallback alarm raised)."""
    with on_flash(flash):
        a = BootApp()
        source = boot_config.load(a)
    return (source, a.controller.config["params"]["kp"],
            bool(a.controller.sticky_alarms & alarms.CONFIG_FALLBACK))


def stored(kp, pin=""):
    return {"params": {"kp": kp}, "coeffs": config_mod.default_coeffs(), "pin": pin}


def save(flash, kp):
    with on_flash(flash):
        ConfigStore("").save(stored(kp))


def sealed(body):
    """A file with a correct checksum line: it gets past the checksum, to the parse."""
    return body + b"\nsha256 " + hexlify(hashlib.sha256(body).digest()) + b"\n"


def sealed_config(params):
    cfg = {"params": params, "coeffs": config_mod.default_coeffs(), "pin": ""}
    return sealed(json.dumps({"format": store_mod.FORMAT, "config": cfg}).encode())


def good_file(kp):
    flash = FakeFlash()
    save(flash, kp)
    return flash.files["config.json"]


def _noise(n, seed):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


DEFAULT_KP = config_mod.default_params()["kp"]


def check_case(bad):
    """`bad` (the damaged file's bytes, or None for an unreadable file) as the
    current copy with a good backup, as the backup with a good current, as a
    leftover config.tmp, and as every copy."""
    good = good_file(0.25)
    newer = good_file(0.3)

    def put(files, path):
        flash = FakeFlash(files)
        if bad is None:
            flash.unreadable = (path,)
        else:
            flash.files[path] = bad
        return flash

    # the current copy damaged: the backup boots (a fallback, so the alarm)
    flash = put({"config.bak": good, "config.json": b""}, "config.json")
    assert boot(flash) == ("backup", 0.25, True)
    assert flash.largest_read <= MAX_BYTES + 1
    # the backup damaged: the current one boots, no alarm
    flash = put({"config.json": newer, "config.bak": b""}, "config.bak")
    assert boot(flash) == ("current", 0.3, False)
    # a leftover config.tmp damaged: dropped, the current one boots
    flash = put({"config.json": newer, "config.bak": good, "config.tmp": b""}, "config.tmp")
    assert boot(flash) == ("current", 0.3, False)
    assert flash.largest_read <= MAX_BYTES + 1
    # every copy damaged: defaults, and the alarm says so
    flash = FakeFlash()
    for path in ("config.json", "config.bak", "config.tmp"):
        flash.files[path] = b"" if bad is None else bad
    if bad is None:
        flash.unreadable = ("config.json", "config.bak", "config.tmp")
    assert boot(flash) == ("defaults", DEFAULT_KP, True)
    assert flash.largest_read <= MAX_BYTES + 1


def test_matrix_truncated():
    good = good_file(0.5)
    check_case(good[:len(good) // 2])
    check_case(good[:-2])  # one digit of the checksum missing
    check_case(good[:good.find(b"\n") + 1])  # the body only


def test_matrix_random_bytes():
    check_case(_noise(700, 7))


def test_matrix_random_bytes_with_newlines_and_a_hash_line():
    noise = _noise(300, 11)
    check_case(noise + b"\nsha256 " + _noise(64, 3) + b"\n")


def test_matrix_a_bit_flip():
    good = bytearray(good_file(0.5))
    good[40] ^= 0x08
    check_case(bytes(good))


def test_matrix_non_utf8_bytes_in_the_hash_line():
    good = good_file(0.5)
    end = good.find(b"\n")
    check_case(good[:end] + b"\nsha256 " + b"\xff\xfe\x80" * 21 + b"\xc3\n")


def test_matrix_out_of_range_values():
    check_case(sealed_config({"kp": 1e9}))
    check_case(sealed_config({"period_ms": -5}))


def test_matrix_wrongly_typed_values():
    check_case(sealed_config({"kp": "fast"}))
    check_case(sealed(json.dumps({"format": store_mod.FORMAT,
                                  "config": {"params": [1, 2], "coeffs": 3}}).encode()))
    check_case(sealed(json.dumps({"format": store_mod.FORMAT, "config": [1]}).encode()))


def test_matrix_an_unknown_parameter():
    check_case(sealed_config({"kp": 0.5, "no_such_parameter": 1}))


def test_matrix_not_json_behind_a_good_checksum():
    check_case(sealed(b'{"format": "copflow-config/1", "config": {"params": '))
    check_case(sealed(b"\xff\xfe not text"))
    check_case(sealed(b"[" * 5000))  # nested deeper than any parser's stack


def test_matrix_120_to_200_kb_files_are_skipped_without_being_read():
    for kb in (120, 160, 200):
        pad = "x" * (kb * 1024)
        body = json.dumps({"format": store_mod.FORMAT, "config": stored(0.5), "pad": pad})
        check_case(sealed(body.encode()))  # and largest_read proves none was read whole


def test_matrix_an_unreadable_file():
    check_case(None)


def test_a_config_too_big_for_the_store_is_refused_and_changes_nothing():
    flash = FakeFlash()
    save(flash, 0.25)
    before = dict(flash.files)
    big = stored(0.5)
    coeffs = {}
    for key in big["coeffs"]:
        coeffs[key] = big["coeffs"][key]
    coeffs["note"] = "n" * MAX_BYTES
    big["coeffs"] = coeffs
    with on_flash(flash):
        try:
            ConfigStore("").save(big)
        except store_mod.StoreError as exc:
            assert "too big" in str(exc)
        else:
            raise AssertionError("an oversized save was accepted")
    assert flash.files == before
