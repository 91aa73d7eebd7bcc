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
