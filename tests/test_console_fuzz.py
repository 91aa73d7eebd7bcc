"""Fuzzing the console under CPython: no input crashes it or stores an invalid config."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import console as console_mod
from console import Console
from core import config
from fakeapp import FakeApp

# Every command of the console's table (so a new command is fuzzed the day it is
# added), then words its commands take and values that break parsers. Not `hil`:
# FakeApp has no HIL session (App's needs its loop and HAL); the HIL commands run on
# the real App through the virtual board (hil_tests, tests/test_virtual_board.py).
COMMANDS = sorted((set(console_mod._COMMANDS) | set(console_mod._EXTRA)) - {"hil"})
words = st.sampled_from(COMMANDS + [
    "preset", "kp", "ti_s", "period_ms", "p_min_cooling", "cooling", "a1", "c", "reset",
    "1e999", "nan", "-0", "-1", "0", "1e-300", "99999",
    "auto", "{", "}", '{"cooling":', "#t1", "#", "paper-printed", "default", "set set"])
line = st.one_of(
    st.binary(max_size=300),
    st.lists(words, max_size=6).map(lambda w: " ".join(w).encode()),
    st.lists(st.one_of(words, st.text(max_size=8).map(str)), max_size=5)
    .map(lambda w: " ".join(w).encode("utf-8", "replace")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=15))
@example([b"\x0b"])  # a lone control byte: E_SYNTAX, not ignored (found in CI)
@example([b"\t", b"\x0c", b" \r"])
def test_no_input_crashes_the_console_or_stores_an_invalid_config(lines):
    out = []
    console = Console(FakeApp(), out.append)
    for raw in lines:
        raw = raw.replace(b"\x03", b"")
        before = len(out)
        for byte in raw + b"\n":
            console.feed(byte)
        sent = "".join(out[before:]).split("\n")[:-1]
        if raw.strip(b" \r\n") and b"\n" not in raw:
            responses = [s for s in sent if not s.startswith("!")]
            assert len(responses) == 1, (raw, sent)
            assert "E_INTERNAL" not in responses[0], responses[0]
        # Whatever happened, the active config is a valid one.
        config.validate(console.app.controller.config)
