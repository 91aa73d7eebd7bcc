"""Output places and what goes there: checks on `--out DIR` and `-o FILE` made before a
command does its work, so a run is never lost to an output place it cannot write (one
`copflow: ...` line instead), and a run's CSV time series and plots (sim, hil, demo)."""

import csv
import os
import tempfile
from pathlib import Path

from host_tools.errors import CopflowError


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the only test that also holds for root and
    read-only mounts."""
    try:
        fd, name = tempfile.mkstemp(prefix=".copflow-probe-", dir=folder)
    except OSError as exc:
        raise CopflowError(f"{what}: cannot write in {folder} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(name)


def check_output_dir(path: Path, option: str = "--out") -> Path:
    """A folder the command will write into: created now (with its parents) if missing;
    an existing file there, or a place that cannot be written, is an error."""
    what = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise CopflowError(f"{what}: is a file, not a folder (name a folder to write into)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CopflowError(f"{what}: a file is in the way (a folder is needed there)") from None
    except OSError as exc:
        raise CopflowError(f"{what}: cannot create the folder ({exc.strerror})") from None
    _probe(path, what)
    return path


def check_output_file(path: Path, option: str = "-o") -> Path:
    """A file the command will write: its folder must exist and be writable, and the
    path must not be a folder."""
    what = f"{option} {path}"
    if path.is_dir():
        raise CopflowError(f"{what}: is a folder, not a file")
    parent = path.parent
    if not parent.exists():
        raise CopflowError(f"{what}: no such folder {parent} (create it first)")
    if not parent.is_dir():
        raise CopflowError(f"{what}: {parent} is not a folder")
    _probe(parent, what)
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """`text` into `path` through a temporary file beside it and a rename: a
    failure leaves the old file as it was (one `copflow:` line, no traceback)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CopflowError(f"cannot write {path}: {exc.strerror}") from None


def read_error(path: Path, exc: OSError | UnicodeDecodeError) -> CopflowError:
    """The one-line error for a CSV file that cannot be read as text."""
    if isinstance(exc, FileNotFoundError):
        return CopflowError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return CopflowError(f"{path}: is a directory, not a CSV file")
    if isinstance(exc, UnicodeDecodeError):
        return CopflowError(f"{path}: not a text (UTF-8) CSV file")
    return CopflowError(f"{path}: cannot read ({exc.strerror})")


def write_outputs(out: Path, result, pp, season: str, coeffs: dict | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    keys = list(result.series)
    with open(out / "timeseries.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for row in zip(*(result.series[k] for k in keys), strict=True):
            w.writerow(f"{v:.6g}" for v in row)
    from host_tools import plots

    plots.time_series(result, out / "timeseries.png")
    plots.cop_curve(pp, season, out / "cop_vs_flow.png", coeffs,
                    settled=result.flow_percent_final)
