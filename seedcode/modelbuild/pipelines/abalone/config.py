"""Settings shared by the pipeline and the local run; no SDK import, so the local run stays light."""

from __future__ import annotations

# The SageMaker XGBoost framework container that trains, evaluates and serves the model. The local
# `xgboost-cpu` pin in requirements/dev.txt follows it (container "3.0-5" ships XGBoost 3.0.5).
XGBOOST_FRAMEWORK_VERSION = "3.0-5"
# The scikit-learn processing container that runs preprocess.py.
SKLEARN_FRAMEWORK_VERSION = "1.2-1"

# The model is registered only when its test MSE is at most this; otherwise the pipeline fails.
MSE_THRESHOLD = 6.0

# Hyperparameters of train.py, as SageMaker passes them (names are the script's arguments).
HYPERPARAMETERS: dict[str, str | int | float] = {
    "objective": "reg:squarederror",
    "num_round": 50,
    "max_depth": 5,
    "eta": 0.2,
    "gamma": 4,
    "min_child_weight": 6,
    "subsample": 0.7,
    "seed": 42,
}

# Seed of the train/validation/test split done by preprocess.py.
SPLIT_RANDOM_STATE = 42
