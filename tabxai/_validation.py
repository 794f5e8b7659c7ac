"""Parameter validation and random state handling: the one place user arguments are checked.

Every public entry point validates its arguments here, once, at the boundary. Messages say what was
expected and what came. Errors derive from ``ValueError`` or ``TypeError`` so that ``except`` clauses
users already write keep working.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_bool",
    "check_choice",
    "check_int",
    "check_n_jobs",
    "check_random_state",
    "check_real",
    "check_weights",
    "resolve_seed",
    "row_generator",
]


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_int(value, name, *, min_value=None, max_value=None, allowed=()):
    """Return ``value`` as a Python int after checking its type and range.

    ``allowed`` lists extra values (such as ``"auto"`` or ``None``) that are returned unchanged.
    """
    for option in allowed:
        if value is option or (isinstance(value, str) and value == option):
            return value
    bounds = []
    if min_value is not None:
        bounds.append(f">= {min_value}")
    if max_value is not None:
        bounds.append(f"<= {max_value}")
    expected = "an int" + (" " + " and ".join(bounds) if bounds else "")
    if allowed:
        expected += " or " + " or ".join(repr(a) for a in allowed)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {expected}; got {_describe(value)}")
    value = int(value)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise ValueError(f"`{name}` must be {expected}; got {value}")
    return value


def check_real(value, name, *, min_value=None, max_value=None, min_inclusive=True, allowed=()):
    """Return ``value`` as a finite Python float after checking its type and range."""
    for option in allowed:
        if value is option or (isinstance(value, str) and value == option):
            return value
    bounds = []
    if min_value is not None:
        bounds.append(f"{'>=' if min_inclusive else '>'} {min_value}")
    if max_value is not None:
        bounds.append(f"<= {max_value}")
    expected = "a finite number" + (" " + " and ".join(bounds) if bounds else "")
    if allowed:
        expected += " or " + " or ".join(repr(a) for a in allowed)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be {expected}; got {_describe(value)}")
    value = float(value)
    too_small = min_value is not None and (value < min_value if min_inclusive else value <= min_value)
    too_large = max_value is not None and value > max_value
    if not np.isfinite(value) or too_small or too_large:
        raise ValueError(f"`{name}` must be {expected}; got {value}")
    return value


def check_choice(value, name, choices):
    """Check that ``value`` is one of ``choices``."""
    if isinstance(value, str) and value in choices:
        return value
    if not isinstance(value, str) and any(value is c for c in choices):
        return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"`{name}` must be one of {listed}; got {_describe(value)}")


def check_weights(weights, n_rows, name, per):
    """Finite non-negative weights of shape ``(n_rows,)``, not all zero, as float64.

    ``name`` names the argument in messages and ``per`` says what each weight belongs to
    (e.g. ``"one per background row"``).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},), {per}; got {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero")
    return weights


def check_bool(value, name, *, allow_none=False):
    """Check that ``value`` is a bool (or None when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    expected = "True, False or None" if allow_none else "True or False"
    raise TypeError(f"`{name}` must be {expected}; got {_describe(value)}")


def check_n_jobs(n_jobs):
    """Resolve ``n_jobs`` with ``joblib.effective_n_jobs``.

    None means 1 unless ``joblib.parallel_config(n_jobs=...)`` says otherwise; negative counts back
    from the CPUs available to this process (cgroup limits included).
    """
    from joblib import effective_n_jobs

    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("`n_jobs` must be a non-zero int or None (-1 means all CPUs); got 0")
    return max(1, int(effective_n_jobs(n_jobs)))


def resolve_seed(random_state):
    """Turn ``random_state`` into one non-negative integer seed, recorded in an Explanation's params.

    ``None`` draws fresh entropy; an int is used as is; a ``numpy.random.Generator`` or
    ``RandomState`` gives one integer drawn from it (so a shared generator advances as users expect).
    """
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"`random_state` must be None, an int >= 0 or a numpy Generator; got {_describe(random_state)}")
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"`random_state` must be None, an int >= 0 or a numpy Generator; got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise TypeError(f"`random_state` must be None, an int >= 0 or a numpy Generator; got {_describe(random_state)}")


def check_random_state(random_state):
    """Check the type of ``random_state`` now, without drawing from a generator."""
    if random_state is None or isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return
    resolve_seed(random_state)


def row_generator(seed, row_index):
    """The generator for explained row ``row_index``: keyed by the row, not by the worker that runs it."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(row_index),))))


def call_keys(seed, n_keys):
    """``n_keys`` 64-bit keys of a whole call (streams shared by every row), from ``seed``'s SeedSequence
    (distinct from every row's: those are spawned children)."""
    return np.random.SeedSequence(seed).generate_state(n_keys, dtype=np.uint64)


def row_keys(seed, row_index, n_keys):
    """``n_keys`` 64-bit keys for explained row ``row_index``, from the same SeedSequence as :func:`row_generator`
    (for counter-based streams inside kernels)."""
    return np.random.SeedSequence(seed, spawn_key=(int(row_index),)).generate_state(n_keys, dtype=np.uint64)
