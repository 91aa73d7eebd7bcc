from core import coeffs, config, presets
from fwtest import raises


def _limits():
    return config.limits(config.default_params())


def _validate(name):
    models = coeffs.parse_set(presets.preset(name))
    coeffs.validate_set(models, _limits(), 0.5, 15.0)
    return models


def test_printed_summer_set_is_rejected_naming_its_misprint():
    err = raises(coeffs.CoeffError, _validate, "paper-printed")
    assert err.season == "cooling"
    assert err.check == "vertex"
    assert "591.6" in str(err)


def test_printed_test_fits_are_rejected_as_swapped():
    err = raises(coeffs.CoeffError, _validate, "paper-test-printed")
    assert err.check == "vertex"
    assert "53.4" in str(err)


def test_corrected_set_reproduces_the_stated_optima():
    models = _validate("paper-corrected")
    cool = models["cooling"]
    lo, hi = cool.effective_range(50.0, 130.0)
    p = cool.optimum(27.6, lo, hi)
    assert abs(p - 91.6) < 0.05
    assert abs(cool.cop(p, 27.6) - 4.2) < 0.01
    heat = models["heating"]
    lo, hi = heat.effective_range(30.0, 100.0)
    p = heat.optimum(11.5, lo, hi)
    assert abs(p - 54.5) < 0.05
    assert abs(heat.cop(p, 11.5) - 3.65) < 0.01
    assert abs(heat.cop(40.0, 11.5) - 2.5) < 0.01


def test_swapped_test_fits_are_valid():
    models = _validate("paper-test-swapped")
    assert abs(models["cooling"].optimum(27.6, 80.0, 100.0) - 92.52) < 0.01


def test_default_preset_is_valid():
    _validate("default")


def test_shape_errors_name_the_key():
    err = raises(coeffs.CoeffError, coeffs.parse_season, "cooling", {"a": [1.0]})
    assert err.check == "shape" and "t_lo" in str(err)
    err = raises(coeffs.CoeffError, coeffs.parse_season, "cooling",
                 {"a": [1.0, "x"], "t_lo": 1, "t_hi": 2, "t_ref": 1.5, "p_lo": 1, "p_hi": 2})
    assert "a[1]" in str(err)
    err = raises(coeffs.CoeffError, coeffs.parse_season, "cooling",
                 {"a": [1.0], "t_lo": 1, "t_hi": 2, "t_ref": 1.5, "p_lo": 1, "p_hi": 2, "zz": 1})
    assert "zz" in str(err)
    err = raises(coeffs.CoeffError, coeffs.parse_season, "cooling",
                 {"a": [float("inf")], "t_lo": 1, "t_hi": 2, "t_ref": 1.5, "p_lo": 1, "p_hi": 2})
    assert err.check == "shape"


def _season(**over):
    data = {"a": [-80.16973, 1.832, -0.010], "c": 12.81, "t_lo": 20.0, "t_hi": 32.0,
            "t_ref": 27.6, "p_lo": 75.0, "p_hi": 110.0}
    for key in over:
        data[key] = over[key]
    return coeffs.parse_season("cooling", data)


def test_negative_cop_is_rejected_with_values():
    m = _season(a=[-82.0, 1.832, -0.010])
    err = raises(coeffs.CoeffError, coeffs.validate_season, "cooling", m, 50.0, 130.0, 0.5, 15.0)
    assert err.check == "positive"
    assert "P=" in str(err) and "t=" in str(err)


def test_implausible_cop_is_rejected():
    m = _season(a=[-60.0, 1.832, -0.010])
    err = raises(coeffs.CoeffError, coeffs.validate_season, "cooling", m, 50.0, 130.0, 0.5, 15.0)
    assert err.check == "plausible"


def test_convex_model_has_nothing_to_optimise():
    m = _season(a=[1.0, -0.02, 0.0002], c=0.0)
    err = raises(coeffs.CoeffError, coeffs.validate_season, "cooling", m, 50.0, 130.0, 0.5, 15.0)
    assert err.check == "vertex"


def test_singular_temperature_range_is_rejected():
    m = _season(t_lo=-2.0, t_ref=1.0, t_hi=4.0)
    err = raises(coeffs.CoeffError, coeffs.validate_season, "cooling", m, 50.0, 130.0, 0.5, 15.0)
    assert err.check == "t_range"


def test_disjoint_flow_ranges_are_rejected():
    m = _season()
    err = raises(coeffs.CoeffError, coeffs.validate_season, "cooling", m, 120.0, 130.0, 0.5, 15.0)
    assert err.check == "flow_range"
