#!/usr/bin/env python3
"""Reference numbers for descent's tests, computed by scikit-learn.

The test suite compares descent against these committed numbers and needs no Python itself.
Run from the repository root to regenerate:

    python3 -m venv .venv && .venv/bin/pip install scikit-learn numpy
    .venv/bin/python scripts/make_reference.py

Features are rounded to float32 and back before fitting, because descent stores features as
f32: both tools then see exactly the same numbers.
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor

OUT = "crates/descent/tests/reference"


def load(name):
    table = np.loadtxt(f"data/{name}.csv", delimiter=",", skiprows=1, dtype=np.float64)
    y = table[:, 0]
    x = table[:, 1:].astype(np.float32).astype(np.float64)
    return x, y


def dump(name, payload):
    payload["sklearn_version"] = sklearn.__version__
    payload["numpy_version"] = np.__version__
    with open(f"{OUT}/{name}.json", "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")


def sgd_regressor_cyclic():
    """Cyclic SGD on least squares with L2 and a constant rate (diabetes)."""
    x, y = load("diabetes")
    lam, eta0 = 0.001, 0.05
    runs = []
    for epochs in (1, 5):
        model = SGDRegressor(
            loss="squared_error",
            penalty="l2",
            alpha=lam,
            learning_rate="constant",
            eta0=eta0,
            shuffle=False,
            max_iter=epochs,
            tol=None,
            fit_intercept=True,
            average=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        runs.append(
            {"epochs": epochs, "coef": model.coef_.tolist(), "intercept": float(model.intercept_[0])}
        )
    dump(
        "sgd_regressor_diabetes",
        {
            "data": "data/diabetes.csv",
            "call": "SGDRegressor(loss='squared_error', penalty='l2', alpha=0.001, "
            "learning_rate='constant', eta0=0.05, shuffle=False, tol=None, max_iter=epochs)",
            "l2": lam,
            "lr": eta0,
            "runs": runs,
        },
    )


def standardized_breast_cancer():
    """breast_cancer standardized as descent's --standardize does it, rounded to f32."""
    x, y = load("breast_cancer")
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return ((x - mean) / std).astype(np.float32).astype(np.float64), y


def sgd_classifier_schedules():
    """Cyclic SGD classifiers with the optimal and invscaling schedules and averaging."""
    x, y = standardized_breast_cancer()
    setups = [
        ("log_loss_optimal", dict(loss="log_loss", learning_rate="optimal", alpha=1e-3)),
        (
            "hinge_invscaling_average",
            dict(loss="hinge", learning_rate="invscaling", eta0=0.1, power_t=0.5, alpha=1e-3, average=True),
        ),
        (
            "log_loss_constant_average_from_1000",
            dict(loss="log_loss", learning_rate="constant", eta0=0.01, alpha=1e-4, average=1000),
        ),
    ]
    runs = []
    for name, params in setups:
        model = SGDClassifier(penalty="l2", shuffle=False, max_iter=3, tol=None, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        runs.append(
            {
                "name": name,
                "params": params,
                "epochs": 3,
                "coef": model.coef_[0].tolist(),
                "intercept": float(model.intercept_[0]),
            }
        )
    dump(
        "sgd_classifier_breast_cancer",
        {
            "data": "data/breast_cancer.csv (standardized: population std, as StandardScaler)",
            "call": "SGDClassifier(penalty='l2', shuffle=False, max_iter=3, tol=None, **params)",
            "runs": runs,
        },
    )


def logistic_optimum():
    """The optimum of L2 logistic regression on standardized breast_cancer.

    descent minimizes (1/M) Σ log(1 + exp(−y·m)) + (λ/2)‖w‖²; LogisticRegression minimizes
    C·Σ log-loss + ½‖w‖², the same problem for C = 1/(λM).
    """
    xs, y = standardized_breast_cancer()
    lam = 0.01
    m = len(y)
    model = LogisticRegression(C=1.0 / (lam * m), tol=1e-12, max_iter=100000, solver="lbfgs")
    model.fit(xs, y)
    w, b = model.coef_[0], model.intercept_[0]
    margin = xs @ w + b
    sign = np.where(y > 0, 1.0, -1.0)
    objective = np.mean(np.logaddexp(0.0, -sign * margin)) + 0.5 * lam * np.dot(w, w)
    dump(
        "logistic_breast_cancer",
        {
            "data": "data/breast_cancer.csv (standardized: population std, as StandardScaler)",
            "call": "LogisticRegression(C=1/(l2*M), tol=1e-12, max_iter=100000, solver='lbfgs')",
            "l2": lam,
            "coef": w.tolist(),
            "intercept": float(b),
            "objective": float(objective),
        },
    )


if __name__ == "__main__":
    sgd_regressor_cyclic()
    sgd_classifier_schedules()
    logistic_optimum()
    print("reference numbers written to", OUT, file=sys.stderr)
