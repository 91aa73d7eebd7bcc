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

from safe_out import break_setting
from safe_out import kbd_intr as _kbd_intr

FORMAT = "copflow-config/1"

SOURCE_CURRENT = "current"
SOURCE_TMP = "tmp"  # a save that completed its write but not its rename
SOURCE_BACKUP = "backup"
SOURCE_DEFAULTS = "defaults"

# A saved config is about 1.5 KB. A file bigger than this is not one of ours
# (flash damage, a stray upload): it is skipped by its size, never read whole,
# and a save that would be bigger is refused.
MAX_BYTES = 8192
_SHA_LINE = 73  # "sha256 " + 64 hex digits + "\n"


def resume_path(folder: str) -> str:
    """The running config a break into the REPL keeps for the next boot (console_extra.keep,
    boot_config.resumed): a file of its own, never config.json."""
    return folder.rstrip("/") + "/resume.json" if folder else "resume.json"


class StoreError(Exception):
    pass


def _digest(body) -> str:  # bytes or a memoryview of them
    return hexlify(hashlib.sha256(body).digest()).decode()


def _load(path: str):
    """The bytes of a file that can be a save, or None: missing, unreadable, or
    bigger than MAX_BYTES (its size from os.stat, so a huge file is never read)."""
    try:
        size = os.stat(path)[6]
        if size > MAX_BYTES:
            return None
        with open(path, "rb") as f:
            # Exactly its size: read(n) allocates n bytes first, and a save's
            # read-back runs where the stock ESP32 heap has little more than that.
            data = f.read(size)
    except Exception:  # OSError, or anything a damaged flash makes the VFS raise
        return None
    return data


def _body_end(data) -> int:
    """Where the JSON body of a save ends, or -1 when data is not a complete save:
    the body line, then `sha256 <hex digest of the body>` and at most a newline.
    Compared as bytes: a hash line need not be text (flash damage)."""
    if data is None:
        return -1
    end = data.find(b"\n")
    if end < 0 or data[end + 1:end + 8] != b"sha256 ":
        return -1
    if data[end + 72:] not in (b"", b"\n"):
        return -1
    if data[end + 8:end + 72] != _digest(memoryview(data)[:end]).encode():
        return -1
    return end


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


class ConfigStore:
    def __init__(self, folder: str = ""):
        base = folder.rstrip("/") + "/" if folder else ""
        self.current = base + "config.json"
        self.tmp = base + "config.tmp"
        self.backup = base + "config.bak"

    def read(self, path: str):
        """The config in one file, or None if it is missing, oversized, torn,
        corrupt or not a config: never raises (boot tries the next copy)."""
        data = _load(path)
        if data is None:
            return None
        end = _body_end(data)
        if end < 0:
            return None
        try:
            doc = json.loads(data[:end])
        except Exception:  # ValueError, and whatever a hostile body provokes (depth, memory)
            return None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return None
        cfg = doc.get("config")
        return cfg if isinstance(cfg, dict) else None

    def intact(self, path: str) -> bool:
        """The file is a complete save: a body and the line `sha256 <its digest>`.
        What read() checks first, without parsing the body (a save checks its own
        files this way: two JSON parses were most of its memory)."""
        return _body_end(_load(path)) >= 0

    def save(self, config: dict):
        """Write atomically; the previous current file becomes the backup.

        The new file is always written under config.tmp, and never while
        config.tmp holds the only copy boot would load: a complete one there (a
        save whose renames were cut, boot could not finish them) is switched in
        first, a torn or superseded one removed. So at every instant a valid
        copy exists under a name boot tries."""
        body = json.dumps({"format": FORMAT, "config": config}).encode()
        if len(body) + 1 + _SHA_LINE > MAX_BYTES:
            raise StoreError("config too big to save: %d bytes, at most %d"
                             % (len(body) + 1 + _SHA_LINE, MAX_BYTES))
        try:
            self._settle()
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
            self._switch_deferred()
        except OSError as exc:
            raise StoreError("saving failed: %s" % exc)

    def _settle(self):
        """Before a save writes config.tmp: no copy boot would load stays there."""
        if not _exists(self.tmp):
            return
        if self.intact(self.tmp) and not self.intact(self.current):
            self._switch_deferred()  # it is what boot would load: make it current
        else:
            os.remove(self.tmp)  # torn, or older than the intact current

    def _switch_deferred(self):
        # Ctrl-C held off around the renames (-1: it arrives as a byte, which the
        # console answers after them), then back to what it was: a KeyboardInterrupt
        # at boot, still a byte in the running loop.
        before = break_setting()
        _kbd_intr(-1)
        try:
            self._switch()
        finally:
            _kbd_intr(before)

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

    def recover(self, valid=None) -> bool:
        """At boot, before anything is read: finish a save that was cut. A
        config.tmp that is complete and verified is the newest config (its save
        got as far as the renames): it becomes the current one. A torn one (cut
        while writing), or one that `valid(config)` refuses (the app's
        validation: a config.tmp from elsewhere), is dropped: the old current
        stands. True when a save was finished."""
        if not _exists(self.tmp):
            return False
        cfg = self.read(self.tmp)
        if cfg is None or (valid is not None and not valid(cfg)):
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
