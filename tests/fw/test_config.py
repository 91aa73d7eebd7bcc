from core import config
from fwtest import raises


def test_defaults_validate():
    checked = config.validate(config.defaults())
    assert checked["params"]["period_ms"] == 1000
    assert "cooling" in checked["models"] and "heating" in checked["models"]


def test_out_of_range_names_the_allowed_range():
    err = raises(config.ConfigError, config.check_param, "kp", -0.1)
    assert err.key == "kp"
    assert "0.0..100.0" in str(err)


def test_enum_and_type_errors():
    raises(config.ConfigError, config.check_param, "mode", "fast")
    raises(config.ConfigError, config.check_param, "kp", "abc")
    raises(config.ConfigError, config.check_param, "kp", float("nan"))
    raises(config.ConfigError, config.check_param, "kp", float("inf"))
    raises(config.ConfigError, config.check_param, "kp", None)
    raises(config.ConfigError, config.check_param, "kp", True)
    raises(config.ConfigError, config.check_param, "period_ms", 100.5)
    raises(config.ConfigError, config.check_param, "nope", 1)
    assert config.check_param("period_ms", "200") == 200
    assert config.check_param("kp", "-0") == 0.0
    assert str(config.check_param("kp", -0.0)) == "0.0"


def test_min_above_max_is_rejected():
    params = config.default_params()
    params["out_min_pct"] = 80.0
    params["out_max_pct"] = 20.0
    err = raises(config.ConfigError, config.validate, {"params": params})
    assert err.key == "out_min_pct"


def test_interlock_above_range_is_rejected():
    err = raises(config.ConfigError, config.validate,
                 {"params": {"min_flow_heating_pct": 150.0}})
    assert err.key == "min_flow_heating_pct"


def test_invalid_coefficients_are_a_config_error():
    from core import presets
    err = raises(config.ConfigError, config.validate, {"coeffs": presets.preset("paper-printed")})
    assert err.key == "coeffs"
    assert err.check == "vertex"


def test_unknown_section_is_rejected():
    raises(config.ConfigError, config.validate, {"paramz": {}})
    raises(config.ConfigError, config.validate, [1, 2])


def test_config_errors_carry_the_console_code():
    # The console answers with the exception's own code, never one guessed from
    # the message's words (issue 13).
    from core import config as config_mod

    for name, value, code in (("kp", 1e9, "E_RANGE"), ("nosuch", 1, "E_UNKNOWN"),
                              ("mode", "sideways", "E_VALUE"), ("period_ms", 1.5, "E_VALUE")):
        try:
            config_mod.check_param(name, value)
        except config_mod.ConfigError as exc:
            assert exc.code == code, (name, exc.code)
        else:
            raise AssertionError("accepted %s=%r" % (name, value))


def _counting_checks():
    """Replace the full coefficient check by one that records the seasons it is
    given (and still runs); returns the record and a function that undoes it."""
    from core import coeffs

    seen = []
    real = coeffs.validate_set

    def counting(models, *args):
        seen.append(sorted(models))
        return real(models, *args)

    coeffs.validate_set = counting

    def undo():
        coeffs.validate_set = real

    return seen, undo


def _season(cfg, season, a0):
    out = dict(cfg["coeffs"][season])
    out["a"] = [a0] + list(out["a"][1:])
    return out


def test_a_one_season_set_checks_that_season_only():
    from core.controller import Controller

    c = Controller()
    seen, undo = _counting_checks()
    try:
        base = c.config["coeffs"]
        c.load_coeffs({"name": "mine", "cooling": _season(c.config, "cooling",
                                                          base["cooling"]["a"][0] + 0.001)})
        assert seen == [["cooling"]], seen
        c.set_param("kp", 0.5)  # neither the set nor the limits changed: no check
        assert seen == [["cooling"]], seen
        c.load_coeffs({"heating": _season(c.config, "heating", base["heating"]["a"][0] + 0.001)})
        assert seen == [["cooling"], ["heating"]], seen
        c.set_param("p_max_heating", 90.0)  # the limits changed: both again
        assert seen[-1] == ["cooling", "heating"], seen
    finally:
        undo()


def test_the_set_before_the_last_is_still_known():
    # The boot checks the saved set early, builds the controller on the shipped
    # defaults, then applies the saved set: found checked (boot_config.precheck).
    saved = config.defaults()
    saved["coeffs"] = dict(saved["coeffs"])
    saved["coeffs"]["cooling"] = _season(saved, "cooling",
                                         saved["coeffs"]["cooling"]["a"][0] + 0.001)
    config.validate(saved)
    seen, undo = _counting_checks()
    try:
        config.validate(config.defaults())
        config.validate(saved)
        assert seen == [], seen
    finally:
        undo()
