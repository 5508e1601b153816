"""Argument checks of the public API: every failure names the argument."""

import numbers

import numpy as np


def check_array(x, name, dtypes, rank=None, dims_desc=None):
    """Checks that `x` is a C-contiguous ndarray of one of `dtypes` and `rank`.

    Raises TypeError (not an ndarray, wrong dtype) or ValueError (wrong rank,
    not C-contiguous), naming `name`.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    allowed = [np.dtype(d) for d in dtypes]
    if x.dtype not in allowed:
        names = " or ".join(str(d) for d in allowed)
        raise TypeError(f"{name} must have dtype {names}, got {x.dtype}")
    if rank is not None and x.ndim != rank:
        layout = f" {dims_desc}" if dims_desc else ""
        raise ValueError(f"{name} must have rank {rank}{layout}, got shape {x.shape}")
    if not x.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use numpy.ascontiguousarray({name}))")
    if not x.flags.aligned:
        raise ValueError(f"{name} must be aligned to its element size (use numpy.ascontiguousarray({name}))")
    return x


def check_dims(name, array, expected, dims_desc):
    """Checks `array.shape == expected` (a tuple), naming `name` and its layout."""
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} {dims_desc}, got {array.shape}")


def check_int(value, name, minimum=None):
    """An integer option (bool is rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_power_of_two(value, name):
    value = check_int(value, name, minimum=1)
    if value & (value - 1):
        raise ValueError(f"{name} must be a power of two, got {value}")
    return value


def check_choice(value, name, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_str(value, name):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value or any(c in value for c in " {}=,()\t\n"):
        raise ValueError(f"{name}: invalid value {value!r}")
    return value


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_optional_float(value, name, positive=False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float or None, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be a finite{' positive' if positive else ''} number, got {value}")
    return value


# Targets the high-level API can compile for and run on (a JIT in this build).
JIT_TARGETS = ("cpu", "gpu")


def check_target(value):
    """`value` as a target name: a str naming a JIT target of this build."""
    if not isinstance(value, str):
        raise TypeError(f"target must be a str, got {type(value).__name__}")
    if value not in JIT_TARGETS:
        raise ValueError(
            f"target must be one of {', '.join(repr(t) for t in JIT_TARGETS)} "
            f"(the JIT targets of this build), got {value!r}"
        )
    return value
