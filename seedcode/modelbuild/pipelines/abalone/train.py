"""Train the abalone regressor with XGBoost: the entry point of step TrainAbaloneModel (script mode).

SageMaker's XGBoost container runs `python train.py --<hyperparameter> <value> ...` with the channels in
`/opt/ml/input/data/<channel>` (also `SM_CHANNEL_<CHANNEL>`) and the model folder `/opt/ml/model`
(`SM_MODEL_DIR`). Each channel holds CSV files without a header, the label first. The model is saved in
XGBoost's own format (UBJSON) as `xgboost-model`, the file the container's default inference loads; never
pickle, which breaks across XGBoost versions.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

logger = logging.getLogger("train")

MODEL_FILE_NAME = "xgboost-model"
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def parse_bool(value: str) -> bool:
    """Parse a flag the way a person means it; argparse's `type=bool` would take "False" as true."""
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parse_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> argparse.Namespace:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Hyperparameters: SageMaker passes each one as `--name value`.
    parser.add_argument("--objective", default="reg:squarederror")
    parser.add_argument("--num_round", type=int, default=50)
    parser.add_argument("--max_depth", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.2)
    parser.add_argument("--gamma", type=float, default=4.0)
    parser.add_argument("--min_child_weight", type=float, default=6.0)
    parser.add_argument("--subsample", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--early_stopping_rounds", type=int, default=0, help="0 turns early stopping off")
    parser.add_argument(
        "--log_evaluation", type=parse_bool, default=True, help="print the metrics every round"
    )
    # Where SageMaker puts things; the defaults are its documented paths.
    parser.add_argument("--model-dir", default=env.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=env.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument(
        "--validation", default=env.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")
    )
    args = parser.parse_args(argv)
    for name in ("num_round", "max_depth"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if not 0 < args.subsample <= 1:
        parser.error(f"--subsample must be in (0, 1], got {args.subsample}")
    return args


def read_channel(folder: str, channel: str) -> xgb.DMatrix:
    files = sorted(Path(folder).glob("*.csv"))
    if not files:
        raise SystemExit(f"channel {channel!r}: no *.csv file in {folder}; pass --{channel} or SM_CHANNEL_*")
    data = pd.concat([pd.read_csv(path, header=None) for path in files], ignore_index=True)
    values = data.to_numpy(dtype=np.float32)
    return xgb.DMatrix(values[:, 1:], label=values[:, 0])


def booster_params(args: argparse.Namespace) -> dict[str, object]:
    return {
        "objective": args.objective,
        "max_depth": args.max_depth,
        "eta": args.eta,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "seed": args.seed,
        "nthread": 1,  # one thread keeps the trees identical run to run
        "eval_metric": "rmse",
    }


def train(args: argparse.Namespace) -> xgb.Booster:
    dtrain = read_channel(args.train, "train")
    dvalidation = read_channel(args.validation, "validation")
    history: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        booster_params(args),
        dtrain,
        num_boost_round=args.num_round,
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        evals_result=history,
        early_stopping_rounds=args.early_stopping_rounds or None,
        verbose_eval=args.log_evaluation,
    )
    # One line SageMaker's metric definitions (and people) can read.
    print(f"validation-rmse: {history['validation']['rmse'][-1]:.6f}")
    return booster


def save_model(booster: xgb.Booster, model_dir: str) -> Path:
    target = Path(model_dir) / MODEL_FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(booster.save_raw(raw_format="ubj")))
    return target


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = parse_args(argv)
    logger.info("hyperparameters: %s", json.dumps(booster_params(args), sort_keys=True))
    path = save_model(train(args), args.model_dir)
    logger.info("saved the model to %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
