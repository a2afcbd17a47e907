"""scikit-learn's estimator contract, without importing scikit-learn.

The intake pipeline imports the duplicate matcher and the sentiment models in every process
that registers cases (API workers, import workers, the CLI); importing `sklearn.base` to inherit
`BaseEstimator` costs over a second of CPU there (it pulls in SciPy). `sklearn.base.clone` and
grid search need only `get_params` and `set_params`, written out here.
"""

from __future__ import annotations

import inspect
from typing import Any, Self


class EstimatorParams:
    """Parameters are the keyword arguments of `__init__`, stored under their own names."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Self:
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}")
            setattr(self, name, value)
        return self
