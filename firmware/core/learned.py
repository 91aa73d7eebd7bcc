# What the on-line optimiser learned (core/optimiser.py), kept with the
# coefficients: coeffs["learned"] = {season: [p_pct, t_c, steps]}, the learned
# optimum at an inlet temperature (so it stays meaningful when the model
# changes) and how many converged probes stand behind it. Loaded for a save, a
# boot or a coefficient change and dropped after (host_tools/fwbuild.py
# ON_DEMAND): none of this is needed between them.
from core.compat import is_finite

_SEASONS = (("cooling", 1), ("heating", 2))


def check(learned, params):
    """ConfigError unless learned is {season: [p, t, steps]} with p within the
    season's p_min..p_max, t within t_lo_c..t_hi_c, steps a whole number 0..100."""
    from core.config import ConfigError

    if not isinstance(learned, dict):
        raise ConfigError("coeffs", "learned: expected an object of season: [p, t, steps]")
    for season in learned:
        entry = learned[season]
        if season not in ("cooling", "heating"):
            raise ConfigError("coeffs", "learned: unknown season %r" % season)
        if not isinstance(entry, (list, tuple)) or len(entry) != 3:
            raise ConfigError("coeffs", "learned: %s must be [p, t, steps]" % season)
        for v in entry:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not is_finite(v):
                raise ConfigError("coeffs", "learned: %s: %r is not a number" % (season, v))
        p, t, n = entry
        if not (params["p_min_" + season] <= p <= params["p_max_" + season]
                and params["t_lo_c"] <= t <= params["t_hi_c"] and n == int(n) and 0 <= n <= 100):
            raise ConfigError("coeffs", "learned: %s %r is out of range" % (season, entry))


def restore(ctrl, learned):
    """Make a checked learned entry the optimiser's correction, per season given."""
    opt = ctrl.opt
    for name, s in _SEASONS:
        entry = learned.get(name)
        if entry is not None:
            lo, hi = ctrl._ranges[name]
            opt.offset[s] = entry[0] - ctrl._models[name].optimum(entry[1], lo, hi)
            opt.conf[s] = int(entry[2])
    opt.hold()


def export(ctrl) -> dict:
    """The learned optimum per season at the set's reference temperature."""
    out = {}
    for name, s in _SEASONS:
        model = ctrl._models[name]
        lo, hi = ctrl._ranges[name]
        t = min(max(model.t_ref, model.t_lo), model.t_hi)
        p = model.optimum(t, lo, hi) + ctrl.opt.offset[s]
        lo, hi = ctrl._limits[name]
        out[name] = [min(max(p, lo), hi), t, ctrl.opt.conf[s]]
    return out


def coeffs_to_save(ctrl) -> dict:
    """The active coefficient set with what the optimiser learned (App.save_config);
    the set itself when nothing was (a load then needs no check of it)."""
    opt = ctrl.opt
    src = ctrl.config["coeffs"]
    if not (opt.conf[1] or opt.conf[2] or opt.offset[1] or opt.offset[2]):
        if "learned" not in src:
            return src
    data = {}
    for key in src:
        data[key] = src[key]
    data["learned"] = export(ctrl)
    return data
