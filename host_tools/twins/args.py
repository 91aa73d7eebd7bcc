# Argument parsing as MicroPython's C modules do it (py/argcheck.c at v1.27.0):
# mp_arg_check_num_sig (lines 36-74) and mp_arg_parse_all (lines 76-130).
# The messages are the port's, so a test can match them.
#
# An allowed-argument spec is a tuple of (name, flags, default) with flags a
# sum of the constants below, exactly like MicroPython's mp_arg_t table.

REQUIRED = 1  # MP_ARG_REQUIRED
KW_ONLY = 2  # MP_ARG_KW_ONLY
INT = 4  # MP_ARG_INT: the value goes through mp_obj_get_int
BOOL = 8  # MP_ARG_BOOL: the value goes through mp_obj_is_true


def get_int(value):
    """mp_obj_get_int: ints and bools pass, anything else is a TypeError."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    raise TypeError("can't convert %s to int" % type(value).__name__)


def check_num(n_args, n_kw, n_min, n_max, takes_kw):
    """mp_arg_check_num_sig (py/argcheck.c:36-74)."""
    if n_kw and not takes_kw:
        raise TypeError("function doesn't take keyword arguments")
    if n_min == n_max:
        if n_args != n_min:
            raise TypeError("function takes %d positional arguments but %d were given"
                            % (n_min, n_args))
    elif n_args < n_min:
        raise TypeError("function missing %d required positional arguments"
                        % (n_min - n_args))
    elif n_args > n_max:
        raise TypeError("function expected at most %d arguments, got %d" % (n_max, n_args))


def parse(pos, kw, allowed):
    """mp_arg_parse_all (py/argcheck.c:76-130): a list of values in `allowed` order.

    Positional arguments fill the leading non-keyword-only slots; a positional
    argument where the table says keyword-only, or more positionals than
    slots, is "extra positional arguments given"; any keyword not in the table
    is "extra keyword arguments given"."""
    out = []
    used = 0
    for i in range(len(allowed)):
        name, flags, default = allowed[i]
        if i < len(pos):
            if flags & KW_ONLY:
                raise TypeError("extra positional arguments given")
            value = pos[i]
        elif name in kw:
            value = kw[name]
            used += 1
        else:
            if flags & REQUIRED:
                raise TypeError("'%s' argument required" % name)
            out.append(default)
            continue
        if flags & INT:
            value = get_int(value)
        elif flags & BOOL:
            value = bool(value)
        out.append(value)
    if len(pos) > len(allowed):
        raise TypeError("extra positional arguments given")
    if used < len(kw):
        raise TypeError("extra keyword arguments given")
    return out
