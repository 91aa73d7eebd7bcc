# The boot's config: the newest valid copy on flash, else the one before, else
# the defaults with CONFIG_FALLBACK (docs/reliability.md). Loaded once by
# App.load_boot_config and dropped again: no running board needs it after boot.
from core import alarms
from core import config as config_mod
from store import SOURCE_CURRENT, SOURCE_DEFAULTS


def load(app) -> str:
    """Apply the best copy to app and return its source. Nothing escapes from
    here: a copy that cannot be read, decoded, parsed or validated is skipped
    (the store's read() never raises), and a recovery the flash refuses leaves
    the copies to be tried as they are."""
    flash = app.store
    try:
        flash.recover(_valid)  # a save a cut interrupted: finished or dropped
    except Exception:
        pass
    for i in range(3):
        source, cfg = flash.candidate(i)
        if cfg is None:
            continue
        try:
            app.apply_stored(cfg)
        except Exception:  # ConfigError, wrong types or shapes, memory: the next copy
            continue
        if source != SOURCE_CURRENT:
            app.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
        return source
    if flash.files_present():
        app.controller.sticky_alarms |= alarms.CONFIG_FALLBACK
    return SOURCE_DEFAULTS


def _valid(cfg) -> bool:
    try:
        config_mod.validate({"params": cfg["params"], "coeffs": cfg["coeffs"]})
    except Exception:
        return False
    return True
