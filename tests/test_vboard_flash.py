"""Virtual board flash folders (issue 14): one board per folder, a private folder by
default, a rebuild when firmware/ changes (and only then), a second board that never
disturbs a first."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools import vboard
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.vboard import BUILD_STAMP, VirtualBoard, install_firmware


def test_install_builds_once_and_again_only_when_firmware_changes(tmp_path, monkeypatch):
    flash = tmp_path / "flash"
    assert install_firmware(flash, "esp32")
    (flash / "config.json").write_text("saved")  # the board's own files stay
    assert not install_firmware(flash, "esp32")
    monkeypatch.setattr(vboard, "firmware_hash", lambda board: "changed")
    assert not install_firmware(flash, "esp32", rebuild=False)  # deploy --virtual --flash
    assert install_firmware(flash, "esp32")  # before: built only when main.py was missing
    assert (flash / BUILD_STAMP).read_text().strip() == "changed"
    assert (flash / "config.json").read_text() == "saved"
    assert not install_firmware(flash, "esp32")


def test_firmware_hash_follows_the_tree(tmp_path, monkeypatch):
    from host_tools import fwbuild

    tree = tmp_path / "firmware"
    tree.mkdir()
    (tree / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(fwbuild, "FIRMWARE_DIR", tree)
    first = vboard.firmware_hash("esp32")
    assert vboard.firmware_hash("esp32") == first
    (tree / "a.py").write_text("x = 2\n")
    assert vboard.firmware_hash("esp32") != first
    (tree / "a.py").write_text("x = 1\n")
    (tree / "b.py").write_text("")
    assert vboard.firmware_hash("esp32") != first


def test_a_flash_folder_from_elsewhere_is_left_alone(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text("print('mine')\n")  # a deploy's, or a test's own
    assert not install_firmware(flash, "esp32")
    assert (flash / "main.py").read_text() == "print('mine')\n"


def test_a_second_board_on_the_same_folder_is_refused(tmp_path):
    flash = tmp_path / "flash"
    with VirtualBoard(flash, restart_delay_s=0.05, log=sys.stderr) as first:
        with Link(first.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 20.0)
            board_json = (flash / "board.json").read_text()
            with pytest.raises(CopflowError, match="in use by another virtual board"):
                VirtualBoard(flash, profile="pico", log=sys.stderr).start()
            assert (flash / "board.json").read_text() == board_json
            assert link.command("hello").fields()["board"] == "esp32"
    with VirtualBoard(flash, restart_delay_s=0.05, log=sys.stderr):  # free again
        pass


def _start_board(*args):
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.cli", "board", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = proc.stdout.readline().strip()
    assert port.startswith("/dev/"), proc.stderr.read() if proc.poll() is not None else port
    return proc, port


def _stop(proc):
    proc.terminate()
    try:
        return proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_two_default_boards_have_private_folders(tmp_path):
    """Before: both used ~/.local/share/copflow/flash; a second board with another
    profile rewrote board.json and the first crash-looped."""
    first, port1 = _start_board()
    try:
        with Link(port1, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
            link.command("set kp 0.25")
            link.command("save")
            second, port2 = _start_board("--profile", "pico")
            try:
                with Link(port2, timeout_s=10.0) as other:
                    other.wait_for("!boot", 30.0)
                    assert other.command("hello").fields()["board"] == "pico"
                    assert other.command("get kp").fields()["kp"] == "0.4"
            finally:
                err2 = _stop(second)
            time.sleep(0.5)
            assert link.command("hello").fields()["board"] == "esp32"
            assert link.command("get kp").fields()["kp"] == "0.25"
    finally:
        err1 = _stop(first)
    flashes = [line.split(" flash ")[1].split(" (")[0] for line in err2.splitlines()
               if " flash " in line]
    assert len(flashes) == 1 and "(private, removed at exit)" in err2, err2
    assert not Path(flashes[0]).exists()  # private: removed at exit
    assert "restarting" not in err1  # the first board never crashed


def test_board_json_names_the_port(tmp_path):
    flash = tmp_path / "flash"
    install_firmware(flash, "rp2", "pico")
    assert json.loads((flash / "board.json").read_text()) == {"board": "rp2",
                                                                "profile": "pico"}
