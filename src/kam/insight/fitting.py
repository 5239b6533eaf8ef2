"""Maximum likelihood on log-parameters, shared by the models."""

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
