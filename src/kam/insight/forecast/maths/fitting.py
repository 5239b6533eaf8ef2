"""Maximum likelihood on log-parameters, and collapsing identical data rows, shared by the models."""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult, minimize

# Log-parameters stay within e^±30: wide enough for any data, and keeps exp() finite
# while the line search probes.
BOUND = 30.0


# A line search that ends "abnormally" (it found no step that lowers the value) while the
# gradient of the mean log-likelihood is below this, per customer and per unit of each
# log-parameter not held at a bound, stopped on a flat maximum: moving any parameter by a
# factor e changes the log-likelihood by less than 0.01 per customer. That is where the
# estimates run off towards a limit the data cannot tell apart (steady buyers: no dropout,
# Poisson purchases), whose forecasts the models compute in that limit.
SETTLED_GRADIENT = 1e-2


def maximise(objective, start, *, gradient: bool = True) -> OptimizeResult:
    """Minimise `objective(theta)` (a mean negative log-likelihood) with L-BFGS-B.

    With `gradient`, the objective returns (value, gradient); otherwise the gradient is
    taken by finite differences. The result's `converged` says whether it reached the
    maximum: L-BFGS-B's own success, or a line search that stopped on a flat maximum
    (see SETTLED_GRADIENT); a fit that ran out of iterations or stopped on a slope has not.
    """
    start = np.asarray(start, dtype=np.float64)
    result = minimize(
        objective, start, jac=gradient, method="L-BFGS-B",
        bounds=[(-BOUND, BOUND)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    result.converged = bool(result.success) or settled(result)
    return result


def settled(result: OptimizeResult) -> bool:
    """Whether an unsuccessful L-BFGS-B run nonetheless stopped on a flat maximum."""
    if "ABNORMAL" not in str(result.message) or not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        return False
    jac = np.asarray(getattr(result, "jac", np.full(len(result.x), np.inf)), dtype=np.float64)
    free = np.abs(result.x) < BOUND - 1e-6
    return bool(np.all(np.isfinite(jac[free])) and (np.abs(jac[free]).max(initial=0.0) <= SETTLED_GRADIENT))


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
