import os

from store import ConfigStore


def _folder(name):
    try:
        import tempfile  # CPython: keep test files out of the project tree

        path = tempfile.mkdtemp() + "/" + name
    except ImportError:  # MicroPython: the flash root is a scratch folder
        path = "store_test_" + name
    try:
        os.mkdir(path)
    except OSError:
        pass
    for f in ("config.json", "config.tmp", "config.bak"):
        try:
            os.remove(path + "/" + f)
        except OSError:
            pass
    return path


def test_save_then_read_back():
    s = ConfigStore(_folder("a"))
    s.save({"params": {"kp": 1.5}})
    assert s.read(s.current) == {"params": {"kp": 1.5}}
    assert s.candidates()[0][0] == "current"


def test_previous_config_becomes_the_backup():
    s = ConfigStore(_folder("b"))
    s.save({"v": 1})
    s.save({"v": 2})
    assert s.read(s.current) == {"v": 2}
    assert s.read(s.backup) == {"v": 1}


def test_corrupt_current_falls_back_to_backup():
    s = ConfigStore(_folder("c"))
    s.save({"v": 1})
    s.save({"v": 2})
    with open(s.current, "r+b") as f:
        f.seek(8)
        f.write(b"X")
    assert [src for src, _ in s.candidates()] == ["backup"]


def test_torn_files_are_rejected():
    s = ConfigStore(_folder("d"))
    s.save({"v": 1})
    with open(s.current, "rb") as f:
        data = f.read()
    for cut in (0, 5, len(data) // 2, len(data) - 3):
        with open(s.tmp, "wb") as f:
            f.write(data[:cut])
        assert s.read(s.tmp) is None


def test_interrupted_rename_keeps_a_loadable_config():
    s = ConfigStore(_folder("e"))
    s.save({"v": 1})
    s.save({"v": 2})
    # A cut between "current -> backup" and "tmp -> current": only tmp and bak remain.
    os.rename(s.current, s.tmp)
    assert s.candidates()[0] == ("tmp", {"v": 2})


def test_boot_finishes_a_save_cut_between_the_renames():
    s = ConfigStore(_folder("f"))
    s.save({"v": 1})
    s.save({"v": 2})
    os.rename(s.current, s.tmp)  # the cut: only config.tmp (new) and config.bak (old)
    assert s.recover()
    assert s.candidates()[0] == ("current", {"v": 2})
    assert s.read(s.backup) == {"v": 1}
    assert not _present(s.tmp)


def test_boot_finishes_a_save_cut_before_the_renames():
    s = ConfigStore(_folder("g"))
    s.save({"v": 1})
    s.save({"v": 2})
    with open(s.current, "rb") as f:
        new = f.read()
    s.save({"v": 1})
    with open(s.tmp, "wb") as f:  # written and complete, the renames not started
        f.write(new)
    assert s.recover()
    assert s.read(s.current) == {"v": 2} and s.read(s.backup) == {"v": 1}


def test_boot_drops_a_save_torn_while_writing():
    s = ConfigStore(_folder("h"))
    s.save({"v": 1})
    with open(s.tmp, "wb") as f:
        f.write(b'{"format": "copflow-conf')
    assert not s.recover()
    assert s.candidates() == [("current", {"v": 1})]
    assert s.read(s.tmp) is None and not _present(s.tmp)


def _present(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class _PortOs:
    """os as the store sees it, on a port where Ctrl-C raises KeyboardInterrupt
    wherever the code is: here, right after the first rename of a save, unless the
    store has deferred it (kbd_intr(-1): Ctrl-C is then an ordinary byte)."""

    def __init__(self):
        self.char = 3
        self.calls = []
        self.renames = 0

    def kbd_intr(self, char):
        self.calls.append(char)
        self.char = char

    def rename(self, a, b):
        os.rename(a, b)
        self.renames += 1
        if self.renames == 1 and self.char == 3:
            raise KeyboardInterrupt

    def remove(self, path):
        os.remove(path)

    def stat(self, path):
        return os.stat(path)


def test_ctrl_c_cannot_cut_a_save_between_its_renames():
    import safe_out
    import store as store_mod

    s = ConfigStore(_folder("i"))
    s.save({"v": 1})
    found = safe_out.break_setting()
    safe_out.kbd_intr(3)  # the loop's setting, whatever an earlier test left
    port = _PortOs()
    real_os, real_kbd = store_mod.os, getattr(store_mod, "_kbd_intr", None)
    store_mod.os = port
    store_mod._kbd_intr = port.kbd_intr
    interrupted = False
    try:
        s.save({"v": 2})
    except KeyboardInterrupt:
        interrupted = True  # the port's Ctrl-C cut the save
    finally:
        store_mod.os = real_os
        if real_kbd is None:
            del store_mod._kbd_intr
        else:
            store_mod._kbd_intr = real_kbd
        safe_out.kbd_intr(found)
    assert not interrupted
    assert s.read(s.current) == {"v": 2} and s.read(s.backup) == {"v": 1}
    assert port.calls == [-1, 3]  # deferred around the renames, then back to normal
