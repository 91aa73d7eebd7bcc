"""status, reset, log, plot and config export/import/diff against one virtual board
(issue 14)."""

import csv
import json
import sys
import time

import pytest

from host_tools.cli import main
from host_tools.link import Link, ReplError
from host_tools.vboard import VirtualBoard


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    flash = tmp_path_factory.mktemp("board-commands") / "flash"
    with VirtualBoard(flash, restart_delay_s=0.05, log=sys.stderr).boot(20.0) as board:
        yield board.port


@pytest.fixture
def link(port):
    with Link(port, timeout_s=10.0) as link:
        link.command("defaults")
        yield link


def test_status_is_one_line_with_alarm_names_and_missing_values(port, link, capsys):
    link.command("set period_ms 100")
    time.sleep(1.0)  # enough ticks for the missing sensors to be declared
    assert main(["status", "--port", port]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("copflow ") and " on esp32, up " in out
    assert "FLOW_MISSING" in out and "T_MISSING" in out and "flow missing" in out
    assert "t_in missing" in out and "heap " in out
    assert main(["status", "--port", port, "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["flow_pct"] is None and "FLOW_MISSING" in s["alarms"] and s["heap_free"] > 0


@pytest.mark.parametrize("start", ["app", "repl", "raw-repl"])
def test_reset_comes_back_to_copflow(port, link, start, capsys):
    if start != "app":
        link.write_raw(b"\x03\x03")  # break into the REPL
        time.sleep(1.0)
        if start == "raw-repl":
            link.write_raw(b"\r\x01")  # as mpremote leaves it
            time.sleep(0.5)
        # The REPL, not copflow: known by its prompt or banner, not by a timeout.
        with pytest.raises(ReplError, match="REPL"):
            link.request("hello", timeout_s=30.0)
    assert main(["reset", "--port", port]) == 0
    assert "copflow running (boot " in capsys.readouterr().out
    with Link(port, timeout_s=10.0) as again:
        assert again.command("hello").fields()["proto"] == "1"


def test_log_writes_timestamped_rows_and_plot_draws_them(port, link, tmp_path, capsys):
    link.command("set period_ms 100")
    out = tmp_path / "run.csv"
    assert main(["log", "--port", port, "--seconds", "2", "--period-ms", "100",
                 "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 5
    last = rows[-1]
    assert last["time_utc"].endswith("+00:00") and float(last["t_s"]) > 0
    assert "FLOW_MISSING" in last["alarms"].split()  # names, not a hex mask
    assert last["flow_pct"] == "" and last["t_in_c"] == ""  # missing, not 0
    assert f"wrote {len(rows)} rows" in capsys.readouterr().out
    png = tmp_path / "run.png"
    assert main(["plot", str(out)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_config_export_diff_import_round_trip(port, link, tmp_path, capsys):
    path = tmp_path / "board.toml"
    assert main(["config", "export", "--port", port, str(path)]) == 0
    text = path.read_text()
    assert 'format = "copflow-config/1"' in text and "[coeffs.heating]" in text
    assert main(["config", "diff", "--port", port, str(path)]) == 0
    path.write_text(text.replace("\nkp = 0.4", "\nkp = 0.3")
                    .replace("\nperiod_ms = 1000", "\nperiod_ms = 500")
                    .replace('name = "paper-corrected"', 'name = "mine"')
                    .replace("c = 9.091", "c = 9.5"))
    capsys.readouterr()
    assert main(["config", "diff", "--port", port, str(path)]) == 1
    diff = capsys.readouterr().out
    assert "params.kp: board 0.4, file 0.3" in diff and "coeffs.heating.c" in diff
    assert main(["config", "import", "--port", port, str(path)]) == 0
    assert main(["config", "diff", "--port", port, str(path)]) == 0
    assert link.command("get kp").fields()["kp"] == "0.3"
    assert "name=mine" in link.command("coeffs").body


@pytest.mark.parametrize(("edit", "message"), [
    (("\nkp = 0.4", "\nkp = 300"), "params.kp"),
    (("\nkp = 0.4", "\nkq = 3"), "params.kq: unknown parameter"),
    (("\np_min_heating = 30.0", "\np_min_heating = 120.0"), "p_min_heating"),
    (("c = 9.091", "c = \"x\""), "heating"),
    (('format = "copflow-config/1"', 'format = "x"'), "not a copflow-config/1 file"),
])
def test_a_bad_config_file_changes_nothing(port, link, tmp_path, capsys, edit, message):
    path = tmp_path / "board.toml"
    assert main(["config", "export", "--port", port, str(path)]) == 0
    # change something valid too: it must not reach the board either
    path.write_text(path.read_text().replace("\nti_s = 15.0", "\nti_s = 20.0")
                    .replace(*edit))
    before = link.command("coeffs").body, link.command("get ti_s").body
    capsys.readouterr()
    assert main(["config", "import", "--port", port, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert (link.command("coeffs").body, link.command("get ti_s").body) == before


def test_console_session(port, link):
    """help NAME locally, telemetry lines shown with a time, alarms by name, a status
    line current after a change, reset from the REPL, all in one piped session."""
    import subprocess

    link.command("set period_ms 100")
    time.sleep(1.0)  # the missing sensors declared (fault_ticks)

    script = ("help kp\nalarms\nset period_ms 200\ntel period 200\ntel on\nset ti_s 16\n"
              "set ti_s 15\ntel off\n"
              "set kp 0.3\nget kp\nreset\nget kp\nquit\n")
    proc = subprocess.run([sys.executable, "-m", "host_tools.cli", "console", "--port", port],
                          input=script, capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "kp: flow PI proportional gain" in out
    assert "active: T_MISSING FLOW_MISSING" in out  # not a hex mask
    assert " tel [auto/" in out  # !tel lines shown, timestamped
    assert "flow missing" in out
    assert "flow 0.0 %" not in out.split("copflow running again")[0]  # until the reset
    assert "copflow running again (boot " in out
    assert out.count("kp=0.3") == 2  # set, get
    assert "kp=0.4" in out.split("copflow running again")[1]  # the reset dropped it


def test_config_with_hw_through_the_repl(tmp_path, capsys):
    """--hw: /hw.json read and written at the REPL, checked with the firmware's own
    hardware checks first; the running config survives the trips (config=resumed)."""
    with VirtualBoard(tmp_path / "flash", profile="esp32-devkitc", restart_delay_s=0.05,
                      log=sys.__stderr__) as board:  # capsys: sys.stderr has no fd
        with Link(board.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
            link.command("set kp 0.33")
        path = tmp_path / "board.toml"
        assert main(["config", "export", "--hw", "--port", board.port, str(path)]) == 0
        assert "no /hw.json on the board" in path.read_text()
        hw = ('\n[hw]\ntemperature = { driver = "ds18b20" }\nflow = { driver = "pulse_pcnt" }\n'
              'actuator = { driver = "analog", params = { kind = "dac" } }\n')
        bad = tmp_path / "bad.toml"
        bad.write_text(path.read_text() + hw.replace("pulse_pcnt", "nope"))
        capsys.readouterr()
        assert main(["config", "import", "--hw", "--port", board.port, str(bad)]) == 2
        assert "flow.driver: nope is not one of" in capsys.readouterr().err
        assert not (board.flash / "hw.json").exists()
        path.write_text(path.read_text() + hw)
        assert main(["config", "import", "--hw", "--port", board.port, str(path)]) == 0
        assert json.loads((board.flash / "hw.json").read_text())["flow"] == {
            "driver": "pulse_pcnt"}
        assert main(["config", "diff", "--hw", "--port", board.port, str(path)]) == 0
        assert "1 change(s)" in capsys.readouterr().out  # only [hw] differed
        with Link(board.port, timeout_s=10.0) as link:
            assert link.command("get kp").fields()["kp"] == "0.33"  # the running config
