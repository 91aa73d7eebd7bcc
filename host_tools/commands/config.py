"""`copflow config export|import|diff --port P FILE`: a board's parameters and
coefficient set as one TOML file a user can version; with --hw also its hardware
config (/hw.json), read and written through the MicroPython REPL (mpremote): the
board's outputs go safe for a moment and its running config comes back
(`config=resumed`).

export writes the running config; import validates the whole file on the host with the
firmware's own checks (core.config.validate) before it changes anything, then sets the
parameters that differ and pushes the coefficient set, and puts the board's running
config back if the board refuses a step (`--save` saves it on the board when all went
in); diff lists what differs and exits 1 if anything does.
"""

import argparse
import math
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from host_tools import __version__
from host_tools.commands._port import add_port_arguments, board_port
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.outputs import check_output_file, write_text_atomic
from host_tools.paths import import_firmware

FORMAT = "copflow-config/1"
SEASON_KEYS = ("a", "b", "c", "t_lo", "t_hi", "t_ref", "p_lo", "p_hi")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "import", "diff"))
    parser.add_argument("file", type=Path, help="the TOML file")
    parser.add_argument("--save", action="store_true", help="import: also save on the board")
    parser.add_argument("--hw", action="store_true",
                        help="also the hardware config (/hw.json), through the REPL: the "
                             "outputs go safe for a moment, the running config comes back")
    add_port_arguments(parser)


def _params_table():
    import_firmware()
    from core import config as config_mod

    return config_mod


def typed(entry, text: str):
    """A parameter's value as the board printed it, typed as the parameter table says."""
    name, unit, low, high, default, _ = entry
    if isinstance(unit, tuple):
        return text
    value = float(text)
    return int(value) if isinstance(default, int) and value == int(value) else value


def board_config(link) -> dict:
    from host_tools.hil import record_config

    config_mod = _params_table()
    got = record_config(link)
    params = {}
    for entry in config_mod.PARAMS:
        if entry[0] in got["params"]:
            params[entry[0]] = typed(entry, got["params"][entry[0]])
    coeffs = {k: v for k, v in got["coeffs"].items() if k != "format"}
    return {"params": params, "coeffs": coeffs, "raw": got}


# ---- TOML --------------------------------------------------------------------------

def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CopflowError(f"cannot write {value!r} in TOML")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise CopflowError(f"cannot write {value!r} in TOML")


def _toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "_-" for c in key) else _toml_value(key)


def to_toml(config: dict, board: str) -> str:
    config_mod = _params_table()
    helps = {e[0]: e[5] for e in config_mod.PARAMS}
    lines = [f"# copflow config of board {board}, exported "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC by copflow {__version__}",
             "# copflow config import --port PORT FILE loads it (diff: what differs)",
             f'format = "{FORMAT}"', "", "[params]"]
    for name, value in config["params"].items():
        lines.append(f"{name} = {_toml_value(value)}  # {helps.get(name, '')}".rstrip(" #"))
    coeffs = config["coeffs"]
    lines += ["", "[coeffs]", f"name = {_toml_value(coeffs.get('name', 'board'))}"]
    for season in ("cooling", "heating"):
        if season in coeffs:
            lines += ["", f"[coeffs.{season}]"]
            lines += [f"{k} = {_toml_value(coeffs[season][k])}" for k in SEASON_KEYS]
    if config.get("hw") is not None:
        lines += ["", "# the board's /hw.json (docs/drivers.md)", "[hw]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in config["hw"].items()]
    elif "hw" in config:
        lines += ["", "# no /hw.json on the board: its profile's default wiring"]
    return "\n".join(lines) + "\n"


# ---- /hw.json through the REPL ----------------------------------------------------------

_READ_HW = ("try:\n print('HW>' + open('/hw.json').read().replace('\\n', ' ') + '<HW')\n"
            "except OSError:\n print('NOHW')\n")


def _back_to_copflow(port: str, timeout_s: float) -> None:
    from host_tools.board_reset import reset

    with Link(port, timeout_s=timeout_s) as link:
        try:
            if link.request("hello", timeout_s=1.5).ok:
                return
        except CopflowError:
            pass
    reset(port, timeout_s)


def read_hw(port: str, timeout_s: float) -> dict | None:
    """The board's /hw.json (None: there is none), read at the REPL; then the board is
    back in copflow with its running config."""
    import json

    from host_tools.mpremote_run import mpremote

    try:
        text = mpremote(port, "exec", _READ_HW, timeout_s=60)
    finally:
        _back_to_copflow(port, timeout_s)
    if "NOHW" in text:
        return None
    try:
        body = text[text.index("HW>") + 3:text.rindex("<HW")]
        hw = json.loads(body)
    except ValueError:
        raise CopflowError(f"{port}: its /hw.json is not JSON") from None
    return hw


def write_hw(port: str, hw: dict, timeout_s: float) -> None:
    import json
    import tempfile

    from host_tools.mpremote_run import mpremote

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hw.json"
        path.write_text(json.dumps(hw, indent=1) + "\n")
        try:
            mpremote(port, "fs", "cp", str(path), ":hw.json", timeout_s=60)
        finally:
            # a boot applies /hw.json: from the REPL a soft reset, which brings the
            # running config back (config=resumed)
            from host_tools.board_reset import reset

            reset(port, timeout_s)


def read_file(path: Path) -> dict:
    """The file's params and coeffs, checked as the board would check them, before
    anything is sent: unknown names, values out of range, a set that fails validation
    or a combination the firmware refuses are each one error naming the entry."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CopflowError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CopflowError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CopflowError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CopflowError(f"{path}: not TOML ({exc})") from None
    if doc.get("format") != FORMAT:
        raise CopflowError(f"{path}: not a {FORMAT} file (format = {doc.get('format')!r})")
    unknown = sorted(set(doc) - {"format", "params", "coeffs", "hw"})
    if unknown:
        raise CopflowError(f"{path}: unknown section(s) {', '.join(unknown)}")
    params = doc.get("params", {})
    coeffs = doc.get("coeffs")
    if not isinstance(params, dict):
        raise CopflowError(f"{path}: [params] must be a table")
    config_mod = _params_table()
    known = {e[0]: e for e in config_mod.PARAMS}
    for name, value in params.items():
        if name not in known:
            raise CopflowError(f"{path}: params.{name}: unknown parameter")
        try:
            config_mod.check_value(known[name], value)
        except config_mod.ConfigError as exc:
            raise CopflowError(f"{path}: params.{name}: {exc}") from None
    full = config_mod.defaults()
    full["params"].update(params)
    if coeffs is not None:
        if not isinstance(coeffs, dict):
            raise CopflowError(f"{path}: [coeffs] must be a table")
        full["coeffs"] = config_mod.merge_coeffs(full["coeffs"], coeffs)
    try:
        config_mod.validate(full)
    except config_mod.ConfigError as exc:
        raise CopflowError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- the firmware's shape checks on odd types
        raise CopflowError(f"{path}: {exc}") from None
    return {"params": params, "coeffs": coeffs, "hw": doc.get("hw")}


def check_hw(path: Path, hw, board: str) -> None:
    """The [hw] table checked against the board's profile with the firmware's own code
    (host_tools/hwconfig.check), before anything is written."""
    from host_tools import hwconfig

    if not isinstance(hw, dict):
        raise CopflowError(f"{path}: [hw] must be a table")
    if board not in hwconfig.profiles():
        raise CopflowError(f"{path}: [hw]: the board runs no profile ({board}); "
                           f"deploy one first (copflow deploy --profile NAME)")
    hwconfig.check(hw, board, f"{path} [hw]")


# ---- actions ------------------------------------------------------------------------

def differences(board: dict, wanted: dict) -> list[str]:
    from host_tools.coeffs_file import as_sent

    out = []
    for name, value in wanted["params"].items():
        have = board["params"].get(name)
        same = have == value if isinstance(value, str) or have is None else \
            math.isclose(float(have), float(value), rel_tol=5e-6, abs_tol=1e-12)
        if not same:
            out.append(f"params.{name}: board {have!r}, file {value!r}")
    if wanted["coeffs"] is not None:
        sent = as_sent(wanted["coeffs"])
        if sent.get("name") != board["coeffs"].get("name"):
            out.append(f"coeffs.name: board {board['coeffs'].get('name')!r}, "
                       f"file {sent.get('name')!r}")
        for season in ("cooling", "heating"):
            if season not in sent:
                continue
            for key in SEASON_KEYS:
                if sent[season][key] != board["coeffs"][season][key]:
                    out.append(f"coeffs.{season}.{key}: board {board['coeffs'][season][key]}, "
                               f"file {sent[season][key]}")
    return out


def apply(link, wanted: dict, before: dict) -> None:
    """Set what differs; on any refusal put the running config back and raise."""
    from host_tools.coeffs_file import push
    from host_tools.hil import restore_config

    try:
        todo = dict(wanted["params"])
        while todo:
            failed = {}
            for name, value in todo.items():
                text = value if isinstance(value, str) else _toml_value(value)
                response = link.request(f"set {name} {text}")
                if not response.ok:
                    failed[name] = f"{response.code} {response.body}"
            if len(failed) == len(todo):
                name, why = next(iter(failed.items()))
                raise CopflowError(f"{link.url}: params.{name} refused: {why}")
            todo = {k: wanted["params"][k] for k in failed}
        if wanted["coeffs"] is not None:
            push(link, wanted["coeffs"], "imported")
    except BaseException:
        try:
            restore_config(link, before)
        except CopflowError as exc:
            raise CopflowError(f"the import failed and so did putting the board back: "
                               f"{exc}") from None
        raise


def run(args: argparse.Namespace) -> int:
    if args.save and args.action != "import":
        raise CopflowError("--save is for config import")
    if args.action == "export":
        check_output_file(args.file, "FILE")
        with board_port(args) as port:
            with Link(port, args.timeout) as link:
                board = link.command("hello").fields().get("board", "?")
                config = board_config(link)
            if args.hw:
                config["hw"] = read_hw(port, args.timeout)
            text = to_toml(config, board)
        write_text_atomic(args.file, text)
        print(f"wrote {args.file}")
        return 0
    wanted = read_file(args.file)
    if wanted["hw"] is not None and not args.hw:
        raise CopflowError(f"{args.file} has a [hw] table: add --hw to include it "
                           f"(through the REPL), or remove the table")
    with board_port(args) as port:
        return _import_or_diff(args, port, wanted)


def _import_or_diff(args, port: str, wanted: dict) -> int:
    hw_diff: list[str] = []
    with Link(port, args.timeout) as link:
        board_name = link.command("hello").fields().get("board", "?")
    if args.hw and wanted["hw"] is not None:
        check_hw(args.file, wanted["hw"], board_name)
    if args.hw:
        have = read_hw(port, args.timeout)
        if wanted["hw"] is not None and have != wanted["hw"]:
            hw_diff = ["hw: the board's /hw.json differs from the file's [hw]"
                       if have is not None else "hw: the board has no /hw.json, the file "
                       "has [hw]"]
            if args.action == "import":
                write_hw(port, wanted["hw"], args.timeout)
                if read_hw(port, args.timeout) != wanted["hw"]:
                    raise CopflowError(f"{port}: /hw.json did not take the file's [hw]")
    with Link(port, args.timeout) as link:
        board = board_config(link)
        diff = differences(board, wanted) + hw_diff
        changes = len(diff)
        if args.action == "diff":
            for line in diff:
                print(line)
            if not diff:
                print(f"the board's running config matches {args.file}")
            return 1 if diff else 0
        if diff:
            diff = [d for d in diff if not d.startswith("hw:")] if hw_diff else diff
            changed_params = {k: v for k, v in wanted["params"].items()
                              if any(d.startswith(f"params.{k}:") for d in diff)}
            need_coeffs = any(d.startswith("coeffs.") for d in diff)
            apply(link, {"params": changed_params,
                         "coeffs": wanted["coeffs"] if need_coeffs else None}, board["raw"])
            left = differences(board_config(link), wanted)
            if left:
                raise CopflowError(f"imported, but the board still differs: {left[0]}")
        if args.save:
            link.command("save", timeout_s=max(args.timeout, 10.0))
    print(f"imported {args.file}: {changes} change(s)"
          + (", saved" if args.save else " (running config; --save to keep it)")
          + ("; /hw.json written on the board's flash" if hw_diff else ""))
    return 0
