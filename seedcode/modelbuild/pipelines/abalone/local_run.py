"""Run preprocess.py, train.py and evaluate.py for real on this machine, as SageMaker would run them.

Each job gets its own folder standing in for its container's `/opt/ml`, with SageMaker's layout inside:
processing jobs see `/opt/ml/processing/<input or output>`, the training job sees its channels in
`/opt/ml/input/data/<channel>`, its hyperparameters in `/opt/ml/input/config/hyperparameters.json` and as
`--name value` arguments, `SM_*` variables, and writes `/opt/ml/model`, which is then packed into
`model.tar.gz` for the evaluation job. The three jobs run one after another in this process (each as its own
`__main__`). Prints the test MSE and exits non-zero when it is over the gate.

    python -m pipelines.abalone.local_run [--data data/abalone.csv] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.abalone.config import HYPERPARAMETERS, MSE_THRESHOLD, SPLIT_RANDOM_STATE

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "data" / "abalone.csv"


@dataclass(frozen=True)
class LocalRunResult:
    """What a local run produced: the test MSE and where the model and the report are."""

    mse: float
    model_file: Path
    model_archive: Path
    evaluation_file: Path

    @property
    def passed(self) -> bool:
        return self.mse <= MSE_THRESHOLD


def _run_script(script: str, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run `script` as its job's `__main__`: its own copy in `<job>/code` (the job sees only its own script,
    as on SageMaker), that folder as the working directory, `args` as its arguments and `env` added to the
    environment. The three jobs run one after another in this one process, so pandas, scikit-learn and
    XGBoost load once rather than once per job (their imports are most of a local run's time); each job's
    arguments, environment, working directory and import path are restored after it."""
    code_dir = cwd / "code"
    code_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(HERE / script, code_dir / script)
    saved_argv, saved_path, saved_cwd = sys.argv[:], sys.path[:], os.getcwd()
    saved_env = dict(os.environ)
    code: object = 0
    try:
        os.environ.update(env or {})
        os.chdir(code_dir)
        sys.argv = [script, *args]
        sys.path.insert(0, str(code_dir))
        try:
            runpy.run_path(str(code_dir / script), run_name="__main__")
        except SystemExit as exit_:
            code = exit_.code
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    if code not in (None, 0):
        if not isinstance(code, int):
            print(code, file=sys.stderr)  # as Python prints a SystemExit message, then exits 1
            code = 1
        raise RuntimeError(f"{script} failed with exit code {code}; its output is above")


def _processing(job_root: Path, name: str) -> Path:
    path = job_root / "opt" / "ml" / "processing" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_preprocess(data: Path, job_root: Path) -> dict[str, Path]:
    shutil.copy2(data, _processing(job_root, "input") / data.name)
    outputs = {name: _processing(job_root, name) for name in ("train", "validation", "test")}
    _run_script(
        "preprocess.py",
        [
            "--input-dir",
            str(_processing(job_root, "input")),
            "--output-dir",
            str(job_root / "opt" / "ml" / "processing"),
            "--random-state",
            str(SPLIT_RANDOM_STATE),
        ],
        job_root,
    )
    return outputs


def run_training(channels: dict[str, Path], job_root: Path) -> Path:
    opt_ml = job_root / "opt" / "ml"
    env: dict[str, str] = {}
    for channel, source in channels.items():
        target = opt_ml / "input" / "data" / channel
        shutil.copytree(source, target)
        env[f"SM_CHANNEL_{channel.upper()}"] = str(target)
    # As the SDK writes them: every value a JSON-encoded string. The training toolkit decodes them and passes
    # each as `--name value` to the script.
    config = opt_ml / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    encoded = {name: json.dumps(value) for name, value in HYPERPARAMETERS.items()}
    (config / "hyperparameters.json").write_text(json.dumps(encoded, indent=2, sort_keys=True))
    model_dir = opt_ml / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        SM_MODEL_DIR=str(model_dir),
        SM_HPS=json.dumps(HYPERPARAMETERS, sort_keys=True),
        SM_CHANNELS=json.dumps(sorted(channels)),
        SM_INPUT_DIR=str(opt_ml / "input"),
        SM_OUTPUT_DATA_DIR=str(opt_ml / "output" / "data"),
    )
    arguments = [part for name, value in HYPERPARAMETERS.items() for part in (f"--{name}", str(value))]
    _run_script("train.py", arguments, job_root, env)
    # SageMaker packs /opt/ml/model into model.tar.gz in the job's S3 output path.
    archive = opt_ml / "output" / "model.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def run_evaluation(model_archive: Path, test_dir: Path, job_root: Path) -> Path:
    shutil.copy2(model_archive, _processing(job_root, "model") / "model.tar.gz")
    shutil.copytree(test_dir, _processing(job_root, "test"), dirs_exist_ok=True)
    output = _processing(job_root, "evaluation")
    _run_script(
        "evaluate.py",
        [
            "--model-dir",
            str(_processing(job_root, "model")),
            "--test-dir",
            str(_processing(job_root, "test")),
            "--output-dir",
            str(output),
        ],
        job_root,
    )
    return output / "evaluation.json"


def run_local(data: Path, work_dir: Path) -> LocalRunResult:
    """Run the three jobs in `work_dir` (one subfolder per job) and return what they produced."""
    if not data.is_file():
        raise FileNotFoundError(f"--data {data}: no such file; pass the path of the abalone CSV")
    splits = run_preprocess(data, work_dir / "preprocess")
    archive = run_training({"train": splits["train"], "validation": splits["validation"]}, work_dir / "train")
    evaluation = run_evaluation(archive, splits["test"], work_dir / "evaluate")
    report = json.loads(evaluation.read_text())
    return LocalRunResult(
        mse=float(report["regression_metrics"]["mse"]["value"]),
        model_file=work_dir / "train" / "opt" / "ml" / "model" / "xgboost-model",
        model_archive=archive,
        evaluation_file=evaluation,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the raw abalone CSV")
    parser.add_argument(
        "--work-dir", type=Path, help="keep the jobs' folders here (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="abalone-local-run-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        try:
            result = run_local(args.data, work_dir)
        except (FileNotFoundError, RuntimeError) as error:
            print(f"local run failed: {error}", file=sys.stderr)
            return 2
        print(f"mse: {result.mse:.4f} (gate: at most {MSE_THRESHOLD})")
        if args.work_dir:
            print(f"model: {result.model_file}")
        if not result.passed:
            print(f"the model fails the gate: mse {result.mse:.4f} > {MSE_THRESHOLD}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
