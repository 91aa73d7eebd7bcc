# Configuration: every coefficient, limit and gain, with units and allowed
# ranges, validated as a whole before anything uses it. A config that fails
# validation raises ConfigError and the caller keeps the one it had.
from core import coeffs as _coeffs
from core.compat import is_finite, unload

MODES = ("off", "manual", "auto")
SEASONS = ("auto", "cooling", "heating")
ACTUATORS = ("vfd", "valve_linear", "valve_eqp")
HIL_CHOICES = ("off", "allowed")
OPTIMISERS = ("model", "online")

# name, unit, low, high, default, help. An enum has a tuple of names as its
# "unit" and low/high unused; an int parameter has int bounds. The help is for
# people: host tools read it here, and the board's build leaves it out
# (host_tools/fwbuild.py), so keep it a plain string literal.
PARAMS = (
    ("period_ms", "ms", 50, 60000, 1000, "control tick period"),
    ("mode", MODES, 0, 0, "auto", "off: pump stopped; manual: fixed output; auto: optimise"),
    ("season", SEASONS, 0, 0, "auto", "auto: from the unit's mode input"),
    ("manual_output_pct", "%", 0.0, 100.0, 50.0, "actuator output in manual mode"),
    ("design_flow_m3h", "m3/h", 0.01, 1000.0, 0.6, "unit design water flow (P = 100 %)"),
    ("p_min_cooling", "%", 5.0, 300.0, 50.0, "lowest flow the optimiser may choose, cooling"),
    ("p_max_cooling", "%", 5.0, 300.0, 130.0, "highest flow the optimiser may choose, cooling"),
    ("p_min_heating", "%", 5.0, 300.0, 30.0, "lowest flow the optimiser may choose, heating"),
    ("p_max_heating", "%", 5.0, 300.0, 100.0, "highest flow the optimiser may choose, heating"),
    ("min_flow_cooling_pct", "%", 0.0, 300.0, 60.0, "interlock: head-pressure protection"),
    ("min_flow_heating_pct", "%", 0.0, 300.0, 40.0, "interlock: evaporator freeze protection"),
    ("t_cutout_c", "degC", -20.0, 30.0, 1.0, "heating: the unit's leaving-water freeze cutout"
     " (its data plate)"),
    ("cutout_margin_k", "K", 0.0, 10.0, 0.15, "heating: auto keeps the flow where the outlet"
     " stays this far above t_cutout_c (0: off)"),
    ("cutout_hold_s", "s", 0, 86400, 900, "heating: that flow floor comes down only after it"
     " was above the need this long (longer than the unit's restart delay)"),
    ("fallback_flow_pct", "%", 0.0, 300.0, 100.0, "safe-state flow on a sensor fault"),
    ("standby_output_pct", "%", 0.0, 100.0, 0.0, "output while the unit is not running"),
    ("opt_period_ms", "ms", 100, 3600000, 10000, "how often the optimum is recomputed"),
    ("opt_deadband_pct", "%", 0.0, 50.0, 1.0, "optimum changes smaller than this are ignored"),
    ("sp_slew_pct_per_s", "%/s", 0.001, 100.0, 0.5, "setpoint slew limit"),
    ("t_filter_s", "s", 0.0, 3600.0, 30.0, "inlet temperature filter time constant"),
    ("cop_min", "", 0.0, 10.0, 0.5, "lowest plausible model COP_s"),
    ("cop_max", "", 1.0, 50.0, 15.0, "highest plausible model COP_s"),
    ("kp", "%/%", 0.0, 100.0, 0.4, "flow PI proportional gain (output % per flow %)"),
    ("ti_s", "s", 0.1, 10000.0, 15.0, "flow PI integral time"),
    ("out_min_pct", "%", 0.0, 100.0, 0.0, "output lower clamp while the pump runs"),
    ("out_max_pct", "%", 0.0, 100.0, 100.0, "output upper clamp"),
    ("out_rate_pct_per_s", "%/s", 0.01, 1000.0, 10.0, "output rate limit"),
    ("actuator", ACTUATORS, 0, 0, "valve_linear", "feed-forward characteristic"),
    ("ff_gain", "", 0.0, 1.0, 1.0, "weight of the feed-forward term"),
    ("ff_full_flow_pct", "%", 10.0, 1000.0, 150.0, "flow at 100 % output"),
    ("ff_min_output_pct", "%", 0.0, 100.0, 0.0, "VFD minimum speed"),
    ("valve_authority", "", 0.01, 1.0, 0.5, "valve authority (installed characteristic)"),
    ("valve_rangeability", "", 2.0, 500.0, 50.0, "equal-percentage valve rangeability"),
    ("t_lo_c", "degC", -20.0, 80.0, 0.5, "lowest valid inlet temperature"),
    ("t_hi_c", "degC", -20.0, 80.0, 45.0, "highest valid inlet temperature"),
    ("t_rate_c_per_s", "degC/s", 0.001, 100.0, 0.5, "largest credible temperature change"),
    ("t_stuck_s", "s", 0, 604800, 0, "unchanged temperature this long is a fault (0: off)"),
    ("flow_hi_pct", "%", 1.0, 1000.0, 300.0, "highest valid flow"),
    ("flow_rate_pct_per_s", "%/s", 0.1, 10000.0, 100.0, "largest credible flow change"),
    ("flow_stuck_s", "s", 0, 604800, 120, "unchanged non-zero flow this long: fault (0: off)"),
    ("fault_ticks", "ticks", 1, 1000, 3, "consecutive bad samples before a fault is declared"),
    ("recover_ticks", "ticks", 1, 10000, 10, "consecutive good samples before it clears"),
    ("low_flow_s", "s", 0, 3600, 30, "flow below the interlock (LOW_FLOW) or not following"
     " the output (ACTUATOR) this long raises the alarm"),
    ("act_band_pct", "%", 0.0, 300.0, 10.0, "flow error counted by ACTUATOR (0: off)"),
    ("t_plaus_k", "K", 0.0, 50.0, 2.0, "inlet/outlet disagreement raising T_IMPLAUSIBLE (0: off)"),
    ("cop_window_s", "s", 10, 86400, 300, "measured COP_s: energy-averaging window; also"
     " the steady time before T_IMPLAUSIBLE compares inlet and outlet, and the outlet"
     " guard's settling time"),
    ("optimiser", OPTIMISERS, 0, 0, "online", "model: the model's optimum; online: corrected"
     " by measured COP_s (docs/optimiser.md)"),
    ("opt_dither_pct", "%", 0.5, 10.0, 4.0, "online: dither amplitude, the excitation bound;"
     " also the largest step"),
    ("opt_half_s", "s", 30, 3600, 240, "online: dither half-period (its first half unmetered)"),
    ("opt_idle_s", "s", 0, 86400, 3600, "online: converged, probe again after this (0: never"
     " stop dithering)"),
    ("opt_t_step_k", "K", 0.05, 20.0, 0.5, "online: inlet change within a window that restarts"
     " the measurement (a river step)"),
    ("opt_noise_pct", "%", 0.0, 10.0, 0.1, "online: a COP_s change over the dither below this"
     " share of COP_s is noise: no step"),
    ("opt_trip_w", "W", 0.0, 100000.0, 50.0, "online: unit power below this while it calls for"
     " water is a trip: more flow from then on (0: off)"),
    ("hil", HIL_CHOICES, 0, 0, "off", "hardware-in-the-loop injection over the console"),
    ("hil_timeout_s", "s", 1, 3600, 5, "HIL link silence limit: values expire, lockstep ends"),
)


class ConfigError(ValueError):
    """A config value or combination is invalid; `key` names it, `code` is the
    console's error code for it (docs/protocol.md): E_UNKNOWN (no such
    parameter), E_RANGE (a number outside its range), E_VALUE (anything else)."""

    def __init__(self, key: str, message: str, code: str = "E_VALUE"):
        super().__init__("%s: %s" % (key, message))
        self.key = key
        self.code = code
        self.check = ""


def spec(name: str):
    """(name, unit, low, high, default, help) of a parameter, or raise ConfigError."""
    for entry in PARAMS:  # a look-up table would cost heap for every request's microsecond
        if entry[0] == name:
            return entry
    raise ConfigError(name, "unknown parameter", "E_UNKNOWN")


def allowed(name: str) -> str:
    return allowed_for(spec(name))


def allowed_for(entry) -> str:
    _, unit, low, high, _, _ = entry
    if isinstance(unit, tuple):
        return "one of " + "|".join(unit)
    return "%s..%s %s" % (low, high, unit)


def check_param(name: str, value):
    """The normalised value of one parameter, or ConfigError with its allowed range."""
    return check_value(spec(name), value)


def check_value(entry, value):
    """The normalised value for a (name, unit, low, high, default, help) table
    entry, or ConfigError; driver parameter tables (drivers/params.py) use it too."""
    name, unit, low, high, default, _ = entry
    if isinstance(unit, tuple):
        if value not in unit:
            raise ConfigError(name, "%r is not %s" % (value, allowed_for(entry)))
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(name, "%r is not a number; allowed %s" % (value, allowed_for(entry)))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, "%r is not a number; allowed %s" % (value, allowed_for(entry)))
    if not is_finite(float(value)):
        raise ConfigError(name, "%r is not finite; allowed %s" % (value, allowed_for(entry)))
    if isinstance(default, int):
        if value != int(value):
            raise ConfigError(name, "%r is not a whole number; allowed %s"
                              % (value, allowed_for(entry)))
        value = int(value)
    else:
        value = float(value) + 0.0  # -0.0 becomes 0.0
    if not low <= value <= high:
        raise ConfigError(name, "%r is out of range; allowed %s" % (value, allowed_for(entry)),
                          "E_RANGE")
    return value


def default_params() -> dict:
    out = {}
    for p in PARAMS:
        out[p[0]] = p[4]
    return out


def default_coeffs() -> dict:
    """The default coefficient set. The presets module is loaded for this and
    dropped again: only the set in use stays in memory."""
    from core import presets

    try:
        data = presets.preset("default")
        # Parsed straight from the module's own data, before anyone holds the
        # returned dict: what "unchanged" means for _shipped() below.
        _CHECKED[2] = _coeffs.parse_set(data)
        return data
    finally:
        unload("core.presets")


def defaults() -> dict:
    return {"params": default_params(), "coeffs": default_coeffs()}


def _check_pair(params, low_key, high_key):
    if not params[low_key] < params[high_key]:
        raise ConfigError(low_key, "%s %s must be below %s %s"
                          % (low_key, params[low_key], high_key, params[high_key]))


def limits(params: dict) -> dict:
    return {
        "cooling": (params["p_min_cooling"], params["p_max_cooling"]),
        "heating": (params["p_min_heating"], params["p_max_heating"]),
    }


def _checked_params(given) -> dict:
    params = default_params()
    for name in given:
        params[name] = check_param(name, given[name])
    _check_pair(params, "p_min_cooling", "p_max_cooling")
    _check_pair(params, "p_min_heating", "p_max_heating")
    _check_pair(params, "out_min_pct", "out_max_pct")
    _check_pair(params, "t_lo_c", "t_hi_c")
    for season in ("cooling", "heating"):
        key = "min_flow_%s_pct" % season
        if params[key] > params["p_max_" + season]:
            raise ConfigError(key, "interlock %s %% is above p_max_%s %s %%"
                              % (params[key], season, params["p_max_" + season]))
    if params["cop_min"] >= params["cop_max"]:
        raise ConfigError("cop_min", "cop_min must be below cop_max")
    return params


def validate(config, params_checked=False) -> dict:
    """A normalised copy of config (missing params take defaults), or ConfigError.

    Returns {"params": {...}, "coeffs": data, "models": {season: SeasonModel}}.
    params_checked: config["params"] is the params dict a validation returned (a
    new coefficient set under the running parameters): taken as it is, which
    spares a `coeffs load` the allocation of checking every parameter again.
    """
    if not isinstance(config, dict):
        raise ConfigError("config", "expected an object with 'params' and 'coeffs'")
    for key in config:
        if key not in ("params", "coeffs", "models", "format"):
            raise ConfigError(key, "unknown config section")
    given = config.get("params", {})
    if not isinstance(given, dict):
        raise ConfigError("params", "expected an object of name: value")
    if params_checked:
        params = given
    else:
        params = _checked_params(given)
    data = config.get("coeffs")
    if data is None:
        data = default_coeffs()
    if isinstance(data, dict) and "learned" in data:
        from core import learned  # the optimiser's, with the set (loaded for the check)

        try:
            learned.check(data["learned"], params)
        finally:
            unload("core.learned")
    try:
        models = _coeffs.parse_set(data)
        for season in ("cooling", "heating"):
            if season not in models:
                raise _coeffs.CoeffError(season, "shape", "the active set needs both seasons")
        checks = (limits(params), params["cop_min"], params["cop_max"])
        if not _shipped(models, checks):
            # Only the seasons that changed: a one-season set (`coeffs load`, a push)
            # leaves the other as it was checked.
            todo = {}
            for season in ("cooling", "heating"):
                if not (_CHECKED[1] == checks and _same_season(_CHECKED[0], models, season)
                        or _CHECKED[4] == checks and _same_season(_CHECKED[3], models, season)):
                    todo[season] = models[season]
            if todo:
                _coeffs.validate_set(todo, checks[0], checks[1], checks[2])
        if not (_CHECKED[1] == checks and _same_season(_CHECKED[0], models, "cooling")
                and _same_season(_CHECKED[0], models, "heating")):
            _CHECKED[3] = _CHECKED[0]
            _CHECKED[4] = _CHECKED[1]
        _CHECKED[0] = models
        _CHECKED[1] = checks
    except _coeffs.CoeffError as exc:
        err = ConfigError("coeffs", str(exc))
        err.check = exc.check
        raise err
    return {"params": params, "coeffs": data, "models": models}


# The last coefficient set that passed validate_set and the limits it passed
# under; then the shipped default set as parsed from the presets; then the set
# and limits before the last. The checks are a pure function of a season's
# model and the limits, and the grid behind them allocates about 7 KB of floats
# per season on MicroPython (plus loading core/coeffs_check.py): a `set` of any
# parameter that changes neither (nearly all of them) skips it, a one-season
# `coeffs load` checks that season only, and so does the boot's first config,
# the shipped defaults, which the test suite checks (tests/test_memory_budget.py,
# test_shipped_defaults_pass_the_full_check). Two sets are kept because the boot
# checks the saved config early, while the heap is nearly empty
# (boot_config.precheck), and then builds the controller on the shipped defaults
# before it applies the saved one.
_CHECKED = [None, None, None, None, None]  # type: list
_MODEL_FIELDS = ("a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "c", "t_lo", "t_hi", "t_ref",
                 "p_lo", "p_hi")


def _same_season(last, models, season) -> bool:
    if last is None:
        return False
    a = last[season]
    b = models[season]
    for name in _MODEL_FIELDS:
        if getattr(a, name) != getattr(b, name):
            return False
    return True


def _shipped(models, checks) -> bool:
    """The shipped default set, unchanged, under the default limits."""
    shipped = _CHECKED[2]
    _CHECKED[2] = None  # once: later configs go through the cache or the check
    if not (_same_season(shipped, models, "cooling") and _same_season(shipped, models, "heating")):
        return False
    p = default_params()
    return checks == (limits(p), p["cop_min"], p["cop_max"])


def merge_coeffs(active: dict, update: dict) -> dict:
    """A new coefficient set: `update`'s seasons over `active`'s (for one-season files)."""
    out = {}
    for key in active:
        out[key] = active[key]
    for key in update:
        out[key] = update[key]
    return out
