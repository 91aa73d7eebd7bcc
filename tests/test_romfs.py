"""The firmware in a ROMFS partition (docs/deploy.md#romfs): the partition's twin,
the build's split, `copflow deploy --romfs`, and a board cut in the middle of it."""

import subprocess
import sys
import time

import pytest

from host_tools import __version__, fwbuild
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.twins.romfs import BLOCK, Partition, Vfs
from host_tools.vboard import ROMFS_FILE, VirtualBoard, check_romfs, heap_bytes

PROFILE = "esp32-devkitc"


def _partition(tmp_path, blocks=4):
    return Partition(blocks * BLOCK).load(str(tmp_path / "part"))


def test_a_new_partition_is_erased_and_kept_in_its_file(tmp_path):
    part = _partition(tmp_path)
    assert bytes(part) == b"\xff" * (4 * BLOCK)
    assert (tmp_path / "part").read_bytes() == bytes(part)
    assert (part.ioctl(4, 0), part.ioctl(5, 0)) == (4, BLOCK)


def test_programming_without_an_erase_only_clears_bits(tmp_path):
    part = _partition(tmp_path)
    part.writeblocks(1, b"\x0f\xf0", 0)
    part.writeblocks(1, b"\xf3\x3f", 0)  # flash: 1 -> 0 only
    assert bytes(part[BLOCK:BLOCK + 2]) == b"\x03\x30"
    part.ioctl(6, 1)  # erase block 1
    assert bytes(part[BLOCK:2 * BLOCK]) == b"\xff" * BLOCK
    part.writeblocks(2, b"ab" + b"\0" * (BLOCK - 2))  # the simple form erases first
    part.writeblocks(2, b"cd" + b"\xff" * (BLOCK - 2))
    assert bytes(part[2 * BLOCK:3 * BLOCK]) == b"cd" + b"\xff" * (BLOCK - 2)
    again = Partition(4 * BLOCK).load(str(tmp_path / "part"))  # after a power cycle
    assert bytes(again) == bytes(part)
    buf = bytearray(2)
    again.readblocks(2, buf)
    assert buf == b"cd"


def test_a_write_outside_the_partition_is_refused(tmp_path):
    part = _partition(tmp_path)
    with pytest.raises(OSError):
        part.writeblocks(4, b"x", 0)
    with pytest.raises(OSError):
        part.ioctl(6, 4)
    with pytest.raises(OSError):  # erasing needs whole sectors
        part.writeblocks(0, b"x")


def test_rom_ioctl_has_one_segment_the_partition(tmp_path):
    part = _partition(tmp_path)
    twin = Vfs(type("builtin", (), {"mount": 1, "umount": 2, "VfsRom": 3, "VfsPosix": 4}),
               part)
    assert twin.rom_ioctl(1) == 1
    assert twin.rom_ioctl(2, 0) is part
    assert twin.rom_ioctl(2, 1) == -22


@pytest.mark.parametrize("text", ["130K", "0", "32M", "lots"])
def test_a_romfs_size_that_no_build_has_is_refused(text):
    with pytest.raises(CopflowError, match="--romfs"):
        check_romfs(text)


def test_the_build_puts_every_module_but_safe_out_in_the_image(tmp_path):
    out = tmp_path / "fw"
    fwbuild.build(out, "esp32", PROFILE)
    modules = {p.relative_to(out).as_posix() for p in out.rglob("*.mpy")}
    image = fwbuild.split_romfs(out)
    assert image.startswith(fwbuild.ROMFS_HEADER)
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == ["board.json", "boards/esp32-devkitc.json", "boards/pico.json", "main.py",
                    "safe_out.mpy"]
    for name in modules - {"safe_out.mpy"}:  # each packed with its path, e.g. core/pi.mpy
        assert name.rsplit("/", 1)[-1].encode() in image


def _modules_on_filesystem(flash):
    return sorted(p.relative_to(flash).as_posix() for p in flash.rglob("*.mpy"))


def _deploy(*args):
    return subprocess.run([sys.executable, "-m", "host_tools.cli", "deploy", *args],
                          capture_output=True, text=True, timeout=180)


def test_deploy_romfs_moves_the_modules_off_the_filesystem(tmp_path):
    flash = tmp_path / "flash"
    first = _deploy("--virtual", "--flash", str(flash))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "core/controller.mpy" in _modules_on_filesystem(flash)
    result = _deploy("--virtual", "--romfs", "--flash", str(flash))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ROMFS written and verified" in result.stdout and "boot ok" in result.stdout
    # nothing left to shadow /rom: not a module, not an empty package folder
    assert _modules_on_filesystem(flash) == ["safe_out.mpy"]
    assert not (flash / "core").exists() and not (flash / "maint").exists()
    again = _deploy("--virtual", "--romfs", "--flash", str(flash))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "ROMFS already holds this image" in again.stdout


def test_deploy_romfs_to_a_build_without_romfs_changes_nothing(tmp_path):
    flash = tmp_path / "flash"
    with VirtualBoard(flash, profile=PROFILE, restart_delay_s=0.05, log=sys.stderr) as board:
        with Link(board.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
        before = {p: p.read_bytes() for p in flash.rglob("*.mpy")}
        result = _deploy("--port", board.port, "--romfs")
        assert result.returncode == 2
        assert "no ROMFS partition" in result.stderr and "without --romfs" in result.stderr
        with Link(board.port, timeout_s=10.0) as link:  # back on its own firmware
            assert f"copflow={__version__}" in link.wait_for("!boot", 30.0)
            assert link.command("status").ok
        assert {p: p.read_bytes() for p in flash.rglob("*.mpy")} == before
        assert not (flash / "maint").exists()


def test_a_cut_in_the_romfs_write_never_runs_a_broken_image(tmp_path):
    """What a power cut in the middle of `romfs deploy` leaves: the flag, and a
    partition erased past its first blocks. The board boots into maintenance; the
    boot after that stops at the REPL with its outputs safe (safe_out is on the
    filesystem) and no watchdog; the next deploy completes."""
    flash = tmp_path / "flash"
    size = heap_bytes("128K")
    with VirtualBoard(flash, profile=PROFILE, romfs="128K", restart_delay_s=0.05,
                      log=subprocess.DEVNULL) as board:
        with Link(board.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
    part = flash / ROMFS_FILE
    data = bytearray(part.read_bytes())
    data[2 * BLOCK:] = b"\xff" * (size - 2 * BLOCK)
    part.write_bytes(bytes(data))
    (flash / "maint").write_text("deploy\n")
    with VirtualBoard(flash, profile=PROFILE, romfs="128K", restart_delay_s=0.05,
                      log=subprocess.DEVNULL, rebuild=False) as board:
        with Link(board.port, timeout_s=10.0) as link:
            assert link.wait_for("!maint", 30.0)
            link.write_raw(b"\x04")  # the next boot, on the broken image
            seen = b""
            deadline = time.monotonic() + 20.0
            while b">>> " not in seen.partition(b"soft reboot")[2] \
                    and time.monotonic() < deadline:
                seen += link.serial.read(256)
            seen = seen.partition(b"soft reboot")[2]
            assert b"!boot" not in seen and b"ImportError" in seen, seen
        result = _deploy("--port", board.port, "--romfs")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ROMFS written and verified" in result.stdout and "boot ok" in result.stdout


def test_a_plain_deploy_to_a_romfs_build_names_the_option(tmp_path):
    """Back to the filesystem (its modules come first on sys.path), with a hint."""
    flash = tmp_path / "flash"
    with VirtualBoard(flash, profile=PROFILE, romfs="128K", restart_delay_s=0.05,
                      log=subprocess.DEVNULL) as board:
        with Link(board.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
        assert _modules_on_filesystem(flash) == ["safe_out.mpy"]
        result = _deploy("--port", board.port)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "has a ROMFS partition: with --romfs" in result.stdout
        assert "boot ok" in result.stdout
        assert "core/controller.mpy" in _modules_on_filesystem(flash)
