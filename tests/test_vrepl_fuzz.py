"""The virtual board's REPL (host_tools/guest/vrepl.py) never crashes on any byte (issue 16,
defect 5: bytes that are not UTF-8 ended the interpreter, 73 crashes in 3,000 random lines;
a backspace did too: MicroPython's bytearray has no pop()).

The REPL runs alone on the host MicroPython (no firmware on its flash), fed a stream of
random lines; at the end it must still evaluate a line. Ctrl-D (0x04) is left out: at an
empty line it is the soft reset, which ends the interpreter by design."""

import random
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from host_tools.micropython import process_command
from host_tools.paths import PROJECT_ROOT
from host_tools.vboard import GUEST_DIR

END = b"\x03\x02\rprint('END' + 'MARK')\r"  # leave a raw REPL, then one line


def run_repl(flash: Path, lines: list[bytes], ctrl_d: bool = False) -> subprocess.CompletedProcess:
    data = b"".join((line if ctrl_d else line.replace(b"\x04", b"")) + b"\r"
                    for line in lines) + END
    cmd = process_command(flash, "256K", ["/_vboard/vboot.py"])
    cmd[cmd.index("--"):cmd.index("--")] = ["--mount", f"{GUEST_DIR}:/_vboard"]
    # stdin ends after the last line: the REPL then exits with status 0
    return subprocess.run(cmd, input=data, capture_output=True, timeout=120, cwd=PROJECT_ROOT)


def assert_survived(result: subprocess.CompletedProcess) -> None:
    out = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0 and "ENDMARK" in out, (
        result.returncode, result.stderr.decode("utf-8", "replace")[-600:], out[-300:])


def test_3000_random_lines(tmp_path):
    rng = random.Random(16)
    lines = []
    for _ in range(3000):
        n = rng.randrange(0, 60)
        lines.append(bytes(rng.choice((rng.randrange(256), rng.randrange(32, 127)))
                           for _ in range(n)))
    assert_survived(run_repl(tmp_path, lines))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=300))
@example([b"\xff\xfe"])  # not UTF-8 (vrepl.py read_line's decode)
@example([b"ab\x08\x7fc"])  # backspace: bytearray.pop
def test_any_bytes(tmp_path, lines):
    assert_survived(run_repl(tmp_path, lines))


def test_a_raw_script_that_is_not_utf8(tmp_path):
    # mpremote's raw REPL: Ctrl-A, the script, Ctrl-D runs it (vrepl.py raw_repl's decode)
    result = run_repl(tmp_path, [b"\x01print(1)\xc3(\x04\x02"], ctrl_d=True)
    assert_survived(result)
    assert b"UnicodeError" in result.stdout
