# AnalogOut's construction checks and calibration (drivers/analog_out.py):
# code a running board never calls again, loaded by the constructor and
# dropped (docs/performance.md, "Memory").
from core.config import ConfigError

# Calibration points closer than this (fraction of full scale) give a slope
# that a meter's last digit can throw off by several percent.
_MIN_CAL_SPAN = 0.1
# A range end may lie this far (fraction of full scale) beyond the codes the
# stage can make; beyond that the config cannot reach its own 0 % or 100 %.
_REACH_SLACK = 0.02


def calibrate(params: dict, full: int) -> tuple:
    """(output volts per code, output volts at code 0) for `params`, whose
    full-scale code is `full`; ConfigError if the range or the calibration
    cannot work."""
    v0 = params["v_at_0_pct"]
    v100 = params["v_at_100_pct"]
    if abs(v100 - v0) < 1.0:
        raise ConfigError("v_at_100_pct", "v_at_0_pct %s and v_at_100_pct %s are less than "
                          "1 V apart" % (v0, v100))
    if params["calibration"] == "two_point":
        ca = params["cal_code_a"]
        cb = params["cal_code_b"]
        for key in ("cal_code_a", "cal_code_b"):
            if params[key] > full:
                raise ConfigError(key, "%s is above the %s full scale %s"
                                  % (params[key], params["kind"], full))
        if abs(cb - ca) < _MIN_CAL_SPAN * full:
            raise ConfigError("cal_code_b", "cal_code_a and cal_code_b must be at least "
                              "%d codes apart" % int(_MIN_CAL_SPAN * full + 0.999))
        slope = (params["cal_v_b"] - params["cal_v_a"]) / (cb - ca)
        # The stage is non-inverting, so volts must rise with the code; a
        # falling or flat line means swapped or mistyped measurements.
        if not slope * full >= 1.0:
            raise ConfigError("cal_v_b", "the measurements give %.3f V over the full code "
                              "range; expected a rising output" % (slope * full))
        offset = params["cal_v_a"] - slope * ca
    else:
        slope = params["gain"] * params["pin_full_v"] / full
        offset = 0.0
    for key in ("v_at_0_pct", "v_at_100_pct"):
        c = (params[key] - offset) / slope
        if c < -_REACH_SLACK * full or c > (1.0 + _REACH_SLACK) * full:
            raise ConfigError(key, "%s V is outside what the stage makes (%.2f..%.2f V)"
                              % (params[key], offset, offset + slope * full))
    return slope, offset
