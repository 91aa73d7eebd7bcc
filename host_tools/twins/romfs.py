"""Twin of a ROMFS partition and of `vfs.rom_ioctl`, for a MicroPython build
that has one (docs/machine-twins.md#romfs).

Neither stock ESP32_GENERIC nor RPI_PICO enables ROMFS at v1.27.0
(MICROPY_VFS_ROM is 0 unless a board sets it: py/mpconfig.h; ports/esp32 ships
partitions-4MiB-romfs.csv with a 128 KB `romfs` partition, ports/rp2 takes
MICROPY_HW_ROMFS_BYTES). Where a build has it, both ports behave alike, and so
does this twin:

- `vfs.rom_ioctl(1)` is the number of segments (1); `vfs.rom_ioctl(2, 0)` the
  partition object (esp32_partition.c `mp_vfs_rom_ioctl`, rp2_flash.c).
- The partition is a block device with the buffer protocol (the memory-mapped
  flash): `ioctl(4, 0)` block count, `ioctl(5, 0)` block size (4096 on both),
  `ioctl(6, n)` erases block n; `writeblocks(n, buf)` erases the range first
  (whole 4 KB sectors: a shorter buffer is refused, as ESP-IDF's
  esp_partition_erase_range refuses it), `writeblocks(n, buf, offset)` programs
  without erasing, so bits only go from 1 to 0 as in flash;
  `readblocks(n, buf[, offset])`.
- At every start (hard or soft reset) the port mounts segment 0 at /rom if it
  holds a valid ROMFS, and appends "/rom" and "/rom/lib" to `sys.path`, after the
  filesystem's own entries (py/runtime.c `mp_init`,
  extmod/vfs.c `mp_vfs_mount_romfs_protected`); an invalid image is not mounted.

The partition's bytes persist in a file of the virtual board's flash folder,
written through at every erase and write, as a flash chip keeps them.
"""

BLOCK = 4096  # NATIVE_BLOCK_SIZE_BYTES (esp32_partition.c), BLOCK_SIZE_BYTES (rp2_flash.c)
_ERASED = 0xFF


class Partition(bytearray):
    """The ROMFS partition: its bytes (buffer protocol, as the memory-mapped flash),
    kept in the file at `path` (`size` bytes, erased when missing or another size):
    `Partition(size).load(path)`."""

    def load(self, path):
        import os

        self.path = path
        try:
            whole = os.stat(path)[6] == len(self)
        except OSError:
            whole = False
        if whole:
            with open(path, "rb") as f:
                f.readinto(self)  # no second copy of the partition in the heap
        else:  # a new chip: erased, block by block (no partition-sized temporary)
            open(path, "wb").close()
            for at in range(0, len(self), BLOCK):
                self._erase(at, BLOCK)
                self._store(at, BLOCK)
        return self

    def _store(self, at, n):
        with open(self.path, "r+b") as f:
            f.seek(at)
            f.write(memoryview(self)[at:at + n])

    def ioctl(self, op, arg):
        if op == 4:
            return len(self) // BLOCK
        if op == 5:
            return BLOCK
        if op == 6:
            at = arg * BLOCK
            self._erase(at, BLOCK)
            self._store(at, BLOCK)
            return 0
        if op in (1, 2, 3):  # init, deinit, sync
            return 0
        return None

    def _erase(self, at, n):
        if at < 0 or at + n > len(self):
            raise OSError(22)  # EINVAL: outside the partition (esp_partition_erase_range)
        self[at:at + n] = bytes((_ERASED,)) * n

    def readblocks(self, block, buf, offset=0):
        at = block * BLOCK + offset
        buf[:] = memoryview(self)[at:at + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        at = block * BLOCK
        n = len(buf)
        if offset is None:  # a simple write erases its range first: whole sectors only
            if n % BLOCK:  # esp_partition_erase_range, flash_range_erase
                raise OSError(22)
            self._erase(at, n)
            self._store(at, n)
        else:
            at += offset
        if at < 0 or at + n > len(self):
            raise OSError(22)
        for i in range(n):
            self[at + i] &= buf[i]  # programming clears bits only
        self._store(at, n)


class Vfs:
    """The `vfs` module of a build with ROMFS: the interpreter's own, plus rom_ioctl."""

    def __init__(self, builtin, partition):
        self._partition = partition
        self.mount = builtin.mount
        self.umount = builtin.umount
        self.VfsRom = builtin.VfsRom
        self.VfsPosix = builtin.VfsPosix

    def rom_ioctl(self, op, *args):
        if op == 1:
            return 1
        if op == 2 and args and args[0] == 0:
            return self._partition
        return -22  # -MP_EINVAL


def install(partition, modules, path):
    """What the port does at start: `vfs` with rom_ioctl in `modules`, and the
    partition mounted at /rom, with "/rom" and "/rom/lib" appended to `path`,
    when it holds a valid ROMFS."""
    import vfs

    modules["vfs"] = Vfs(vfs, partition)
    try:
        vfs.mount(vfs.VfsRom(partition), "/rom")
    except OSError:
        return False  # erased or half written: not mounted (mp_vfs_mount_romfs_protected)
    path.append("/rom")
    path.append("/rom/lib")
    return True
