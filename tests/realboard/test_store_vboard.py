"""Issue 16, defects 1 and 2, at board level: a damaged config.json on the virtual board's
flash (the firmware on the host MicroPython with the stock ESP32 heap, collection off
during boot) -- a 160 kB file, a non-UTF-8 hash line -- and the board still boots, on
the backup, with CONFIG_FALLBACK. Before the fix the first ran the boot out of heap and
the second raised UnicodeError out of the boot."""

import hashlib
import json
import sys

import pytest

from core import alarms
from host_tools.link import Link
from host_tools.vboard import VirtualBoard


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(tmp_path / "flash", profile="esp32-devkitc", restart_delay_s=0.05,
                      log=sys.stderr).boot(30.0) as b:
        yield b


def huge(good: bytes) -> bytes:
    doc = json.loads(good.split(b"\n")[0])
    doc["pad"] = "x" * (160 * 1024)  # a valid config, checksum and all: only its size is wrong
    body = json.dumps(doc).encode()
    return body + b"\nsha256 " + hashlib.sha256(body).hexdigest().encode() + b"\n"


def non_utf8_hash(good: bytes) -> bytes:
    return good.split(b"\n")[0] + b"\nsha256 " + b"\xff\xfe\x80" * 21 + b"\xc3\n"


@pytest.mark.parametrize("damage", [huge, non_utf8_hash])
def test_a_damaged_current_config_boots_the_backup(board, damage):
    current = board.flash / "config.json"
    with Link(board.port, timeout_s=10.0) as link:
        for value in (41, 42):
            link.command(f"set ti_s {value}")
            assert link.command("save").ok
        current.write_bytes(damage(current.read_bytes()))
        link.command("reboot")
        banner = link.wait_for("!boot", 30.0)
        assert "config=backup" in banner, banner
        assert int(banner.split("alarms=")[1].split()[0], 16) & alarms.CONFIG_FALLBACK
        assert link.command("get ti_s").fields()["ti_s"] == "41"


def test_a_save_cut_between_its_renames_is_finished_at_boot_within_the_heap(board):
    # Recovery validates config.tmp before making it current (a second parse and
    # validation at boot, with no collection on the host): it still fits the heap.
    with Link(board.port, timeout_s=10.0) as link:
        for value in (41, 42):
            link.command(f"set ti_s {value}")
            assert link.command("save").ok
        (board.flash / "config.json").rename(board.flash / "config.tmp")
        link.command("reboot")
        banner = link.wait_for("!boot", 30.0)
        assert "config=current" in banner, banner
        assert not int(banner.split("alarms=")[1].split()[0], 16) & alarms.CONFIG_FALLBACK
        assert link.command("get ti_s").fields()["ti_s"] == "42"
    assert not (board.flash / "config.tmp").exists()
