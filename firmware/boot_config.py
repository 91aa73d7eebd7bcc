# The boot's config: the newest valid copy on flash, else the one before, else
# the defaults with CONFIG_FALLBACK (docs/reliability.md); then the running
# config a break into the REPL kept, once. Loaded once by App.load_boot_config
# and dropped again: no running board needs it after boot.
from core import alarms
from store import SOURCE_CURRENT, SOURCE_DEFAULTS, ConfigStore, resume_path

SOURCE_RESUMED = "resumed"


def precheck():
    """The saved config's coefficient set through the full check, early in the
    boot while the heap is nearly empty (board._build): applied later by load(),
    it is found checked (core.config's cache), and only its parameters are
    checked again. On the host, where nothing is collected inside a boot phase,
    the check's garbage (about 17 KB for both seasons) no longer has to fit beside
    the whole firmware. Whatever fails here fails again in load(), and is handled
    there."""
    from core import config

    cfg = ConfigStore("").candidate(0)[1]
    if cfg is not None:
        config.validate({"params": cfg["params"], "coeffs": cfg["coeffs"]})


def load(app) -> str:
    """The boot's config: the best saved copy (chosen()), then over it the
    running config a break into the REPL kept, once (resumed()); its source."""
    source = chosen(app)
    return SOURCE_RESUMED if resumed(app) else source


def resumed(app) -> bool:
    """True when the running config a break kept (console_extra.keep) was
    applied; the file goes either way, and the saved config is never touched."""
    import os

    path = resume_path(app._folder)
    cfg = ConfigStore("").read(path)  # None: no such file, torn, or not a config
    try:
        os.remove(path)
    except OSError:
        pass
    if cfg is None:
        return False
    try:
        app.apply_stored(cfg)
    except Exception:  # noqa: BLE001 -- not valid for this firmware: the saved one stands
        return False
    app.config_changed()
    return True


def chosen(app) -> str:
    """Apply the best saved copy to app and return its source. Nothing escapes from
    here: a copy that cannot be read, decoded, parsed or validated is skipped
    (the store's read() never raises), and a recovery the flash refuses leaves
    the copies to be tried as they are."""
    flash = app.store
    try:
        # A save a cut interrupted: finished if its copy is valid -- applied here,
        # which is the check, so it is parsed and validated once -- or dropped.
        if flash.recover(_applier(app)):
            return SOURCE_CURRENT
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


def _applier(app):
    def apply(cfg) -> bool:
        try:
            app.apply_stored(cfg)
        except Exception:  # ConfigError, wrong types or shapes, memory: not this copy
            return False
        return True

    return apply
