"""Maximum likelihood on log-parameters, and collapsing identical data rows, shared by the models."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult, minimize

# Log-parameters stay within e^±30: wide enough for any data, and keeps exp() finite
# while the line search probes.
BOUND = 30.0


def maximise(objective, start, *, gradient: bool = True) -> OptimizeResult:
    """Minimise `objective(theta)` (a mean negative log-likelihood) with L-BFGS-B.

    With `gradient`, the objective returns (value, gradient); otherwise the gradient is
    taken by finite differences.
    """
    start = np.asarray(start, dtype=np.float64)
    return minimize(
        objective, start, jac=gradient, method="L-BFGS-B",
        bounds=[(-BOUND, BOUND)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )


def collapse(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of equal-length columns and how many times each occurs.

    Customers summarised from dated rows share their (x, t_x, T) often — times are whole
    days — so a likelihood summed over the distinct rows, each weighted by its count,
    costs a fraction of one summed over the customers. Rows come back sorted.
    """
    if not len(columns[0]):
        return tuple(np.asarray(c) for c in columns), np.zeros(0, dtype=np.int64)
    order = np.lexsort(columns[::-1])
    sorted_columns = [np.asarray(c)[order] for c in columns]
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for c in sorted_columns:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(order)))
    return tuple(c[starts] for c in sorted_columns), counts
