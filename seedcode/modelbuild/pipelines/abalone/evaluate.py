"""Score the trained model on the test split: the processing job of step EvaluateAbaloneModel.

Runs in SageMaker's XGBoost container (or locally) with only xgboost, numpy and pandas. Reads the training
job's `model.tar.gz` from --model-dir, the test CSV (label first, no header) from --test-dir, and writes
`evaluation.json` to --output-dir:
`{"regression_metrics": {"mse": {"value": ..., "standard_deviation": ...}}}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

logger = logging.getLogger("evaluate")

MODEL_FILE_NAME = "xgboost-model"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="/opt/ml/processing/model", help="folder with model.tar.gz")
    parser.add_argument("--test-dir", default="/opt/ml/processing/test", help="folder with the test CSV")
    parser.add_argument("--output-dir", default="/opt/ml/processing/evaluation", help="gets evaluation.json")
    return parser.parse_args(argv)


def load_model(model_dir: Path) -> xgb.Booster:
    """Load `xgboost-model` from model.tar.gz (as a training job leaves it) or from the folder itself."""
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        with tarfile.open(archive, "r:gz") as tar:
            member = next((m for m in tar.getmembers() if Path(m.name).name == MODEL_FILE_NAME), None)
            if member is None or not member.isfile():
                raise SystemExit(f"{archive}: no {MODEL_FILE_NAME} file inside; was it made by train.py?")
            extracted = tar.extractfile(member)
            assert extracted is not None
            raw = extracted.read()
    elif (model_dir / MODEL_FILE_NAME).is_file():
        raw = (model_dir / MODEL_FILE_NAME).read_bytes()
    else:
        raise SystemExit(f"--model-dir {model_dir}: neither model.tar.gz nor {MODEL_FILE_NAME} is there")
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    return booster


def read_test(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(test_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"--test-dir {test_dir}: no *.csv file found")
    values = pd.concat([pd.read_csv(path, header=None) for path in files]).to_numpy(dtype=np.float32)
    return values[:, 1:], values[:, 0]


def evaluate(booster: xgb.Booster, features: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    predictions = booster.predict(xgb.DMatrix(features))
    squared_errors = (labels.astype(np.float64) - predictions.astype(np.float64)) ** 2
    return {
        "regression_metrics": {
            "mse": {"value": float(squared_errors.mean()), "standard_deviation": float(squared_errors.std())}
        }
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = parse_args(argv)
    report = evaluate(load_model(Path(args.model_dir)), *read_test(Path(args.test_dir)))
    target = Path(args.output_dir) / "evaluation.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    logger.info("mse %s written to %s", json.dumps(report["regression_metrics"]), target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
