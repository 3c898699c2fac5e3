"""Split and scale the abalone data: the processing job of step PreprocessAbaloneData.

Runs inside SageMaker's scikit-learn container (or locally, see local_run.py) with only pandas, numpy and
scikit-learn. Reads every `*.csv` under --input-dir (no header; columns as in data/SOURCE.md) and writes
`train/train.csv`, `validation/validation.csv` and `test/test.csv` under --output-dir: no header, the label
(`rings`) first, then the features, the layout SageMaker's XGBoost container expects. The scaler and encoder
are fitted on the training rows only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger("preprocess")

FEATURE_COLUMNS = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
LABEL_COLUMN = "rings"
NUMERIC_COLUMNS = FEATURE_COLUMNS[1:]
SPLITS = (("train", 0.7), ("validation", 0.15), ("test", 0.15))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", default="/opt/ml/processing/input", help="folder holding the raw CSV")
    parser.add_argument(
        "--output-dir", default="/opt/ml/processing", help="parent of train/ validation/ test/"
    )
    parser.add_argument("--random-state", type=int, default=42, help="seed of the shuffle before the split")
    return parser.parse_args(argv)


def read_raw(input_dir: Path) -> pd.DataFrame:
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"--input-dir {input_dir}: no *.csv file found; put the abalone CSV there")
    frames = [pd.read_csv(path, header=None, names=[*FEATURE_COLUMNS, LABEL_COLUMN]) for path in files]
    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        raise SystemExit(f"--input-dir {input_dir}: the CSV files hold no rows")
    return data


def split(data: pd.DataFrame, random_state: int) -> dict[str, pd.DataFrame]:
    """Shuffle with a fixed seed, then cut into train/validation/test by the fractions of SPLITS."""
    order = np.random.RandomState(random_state).permutation(len(data))
    shuffled = data.iloc[order].reset_index(drop=True)
    cut_train = int(SPLITS[0][1] * len(shuffled))
    cut_validation = cut_train + int(SPLITS[1][1] * len(shuffled))
    return {
        "train": shuffled.iloc[:cut_train],
        "validation": shuffled.iloc[cut_train:cut_validation],
        "test": shuffled.iloc[cut_validation:],
    }


def make_transformer() -> ColumnTransformer:
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"), OneHotEncoder(handle_unknown="ignore")
    )
    return ColumnTransformer(
        [("numeric", numeric, NUMERIC_COLUMNS), ("sex", categorical, ["sex"])], sparse_threshold=0
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    args = parse_args(argv)
    parts = split(read_raw(Path(args.input_dir)), args.random_state)
    transformer = make_transformer().fit(parts["train"][FEATURE_COLUMNS])
    for name, frame in parts.items():
        features = transformer.transform(frame[FEATURE_COLUMNS])
        rows = np.column_stack([frame[LABEL_COLUMN].to_numpy(dtype=float), features])
        target = Path(args.output_dir) / name / f"{name}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(target, header=False, index=False)
        logger.info("wrote %d rows of %d columns to %s", rows.shape[0], rows.shape[1], target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
