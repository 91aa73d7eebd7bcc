# Config persistence on the board's flash: atomic save with a checksum and the
# last good copy kept. A power cut at any moment of a save leaves either the
# old or the new config loadable (docs/console.md, "Saving"), and boot
# (recover) finishes a save that was cut after its new file was complete, so
# the newest config loads as the current one. Ctrl-C cannot cut the renames:
# it is deferred around them on a board (micropython.kbd_intr).
#
#   config.json  the current config      config.tmp  a save in progress
#   config.bak   the previous good one
#
# Each file is the JSON body on one line and "sha256 <hex of the body>" on the
# next, so a torn or edited file is detected without trusting the JSON.
import hashlib
import json
import os
from binascii import hexlify

FORMAT = "copflow-config/1"

SOURCE_CURRENT = "current"
SOURCE_TMP = "tmp"  # a save that completed its write but not its rename
SOURCE_BACKUP = "backup"
SOURCE_DEFAULTS = "defaults"


class StoreError(Exception):
    pass


def _digest(body) -> str:  # bytes or a memoryview of them
    return hexlify(hashlib.sha256(body).digest()).decode()


def _exists(path: str) -> bool:
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path: str):
    try:
        os.remove(path)
    except OSError:
        pass


def _sync():
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()


def _kbd_intr(char: int):
    # -1: Ctrl-C arrives as an ordinary byte (the console then answers it
    # after the renames); 3: back to KeyboardInterrupt. Boards only.
    try:
        import micropython

        micropython.kbd_intr(char)
    except (ImportError, AttributeError):
        pass


class ConfigStore:
    def __init__(self, folder: str = ""):
        base = folder.rstrip("/") + "/" if folder else ""
        self.current = base + "config.json"
        self.tmp = base + "config.tmp"
        self.backup = base + "config.bak"

    def read(self, path: str):
        """The config in one file, or None if it is missing, torn or corrupt."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        lines = data.split(b"\n")
        if len(lines) < 2 or not lines[1].startswith(b"sha256 "):
            return None
        body = lines[0]
        if lines[1][7:].decode() != _digest(body):
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return None
        return doc.get("config")

    def intact(self, path: str) -> bool:
        """The file is a complete save: a body and the line `sha256 <its digest>`.
        What read() checks first, without parsing the body (a save checks its own
        files this way: two JSON parses were most of its memory)."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return False
        end = data.find(b"\n")
        if end < 0 or data[end + 1:end + 8] != b"sha256 ":
            return False
        rest = data[end + 72:end + 73]
        return (rest in (b"", b"\n") and data[end + 8:end + 72]
                == _digest(memoryview(data)[:end]).encode())

    def save(self, config: dict):
        """Write atomically; the previous current file becomes the backup."""
        body = json.dumps({"format": FORMAT, "config": config}).encode()
        try:
            with open(self.tmp, "wb") as f:
                f.write(body)
                f.write(b"\nsha256 ")
                f.write(_digest(body).encode())
                f.write(b"\n")
                if hasattr(f, "flush"):
                    f.flush()
            _sync()
            if not self.intact(self.tmp):
                raise StoreError("read-back of %s failed" % self.tmp)
            _kbd_intr(-1)
            try:
                self._switch()
            finally:
                _kbd_intr(3)
        except OSError as exc:
            raise StoreError("saving failed: %s" % exc)

    def _switch(self):
        """A complete config.tmp becomes the current file. Every state a cut
        leaves is handled by recover(): tmp beside the old current (before the
        first rename), tmp beside the backup only (between the renames)."""
        if self.intact(self.current):
            # Keep the old current as the backup; a torn current is not kept.
            _remove(self.backup)
            os.rename(self.current, self.backup)
        else:
            _remove(self.current)
        os.rename(self.tmp, self.current)
        _sync()

    def recover(self) -> bool:
        """At boot, before anything is read: finish a save that was cut. A
        config.tmp that is complete and verified is the newest config (its save
        got as far as the renames): it becomes the current one. A torn one (cut
        while writing) is dropped: the old current stands. True when a save
        was finished."""
        if not _exists(self.tmp):
            return False
        if self.read(self.tmp) is None:
            _remove(self.tmp)
            return False
        try:
            self._switch()
        except OSError:
            return False  # a read-only flash: boot still finds it as "tmp"
        return True

    SOURCES = ((SOURCE_CURRENT, "current"), (SOURCE_TMP, "tmp"), (SOURCE_BACKUP, "backup"))

    def candidate(self, index: int):
        """The index-th copy to try on boot, best first: (source, config or None).

        One at a time, so that boot never holds more than one parsed config."""
        source, attr = self.SOURCES[index]
        return source, self.read(getattr(self, attr))

    def candidates(self):
        """(source, config) pairs that are intact, best first (for tests and tools)."""
        out = []
        for i in range(len(self.SOURCES)):
            source, cfg = self.candidate(i)
            if cfg is not None:
                out.append((source, cfg))
        return out

    def files_present(self) -> bool:
        return _exists(self.current) or _exists(self.tmp) or _exists(self.backup)
