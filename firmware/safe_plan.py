# The safe levels of a hardware plan's actuator outputs, as /safe.json holds
# them for safe_out.apply() (docs/architecture.md, "Boot"). Used at boot by
# board.hardware_plan() (then dropped from memory, like hw.py) and on the host
# by deploy, which writes the same file beside /hw.json.
import safe_out


def for_plan(plan) -> dict:
    """The safe levels of a hardware plan's actuator outputs (hw.plan()); runs on
    the board and on the host (deploy writes the same /safe.json)."""
    out = []
    section = plan.get("actuator") if isinstance(plan, dict) else None
    if section:
        pins = section["pins"]
        params = section["params"]
        driver = section["driver"]
        if driver == "analog":
            # The PWM or DAC pin as a plain output, low: the stage reads 0 V
            # (a DAC is not created here: safe_out.apply()).
            out.append([pins["out"], 0])
            if pins.get("run") is not None:
                out.append([pins["run"], 0])  # the pump run relay off
        elif driver == "valve_3point":
            off = 0 if params.get("active", "high") == "high" else 1
            out.append([pins["open"], off])
            out.append([pins["close"], off])
        elif driver == "vfd" and pins.get("de") is not None:
            out.append([pins["de"], 0])  # the RS-485 transmitter released
    return {"out": out}


def dumps(spec) -> str:
    # One fixed text for a spec, so the board can compare before writing flash.
    return '{"out": [%s]}\n' % ", ".join("[%d, %d]" % (p, v) for p, v in spec["out"])


def remember(plan):
    """Keep /safe.json in step with the plan this board booted with (written only
    when it changed: flash wear)."""
    text = dumps(for_plan(plan))
    if safe_out.read(safe_out.SAFE_FILE) == text:
        return
    try:
        with open(safe_out.SAFE_FILE, "w") as f:
            f.write(text)
    except OSError:
        pass
