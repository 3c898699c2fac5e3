"""The real scripts run end to end on the shipped data in SageMaker's layout, and the gate is honoured."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from helpers import DATA_FILE

from pipelines.abalone import local_run, preprocess
from pipelines.abalone.config import MSE_THRESHOLD


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> local_run.LocalRunResult:
    return local_run.run_local(DATA_FILE, tmp_path_factory.mktemp("local-run"))


@pytest.mark.slow  # three jobs (pandas, scikit-learn, xgboost loaded once): about 3 s on 2 cores
def test_the_local_run_passes_the_gate(result: local_run.LocalRunResult) -> None:
    assert 0 < result.mse <= MSE_THRESHOLD
    report = json.loads(result.evaluation_file.read_text())
    assert report["regression_metrics"]["mse"]["value"] == pytest.approx(result.mse)
    assert report["regression_metrics"]["mse"]["standard_deviation"] > 0


@pytest.mark.slow
def test_the_model_is_xgboost_format_and_reloads_to_the_same_mse(result: local_run.LocalRunResult) -> None:
    raw = result.model_file.read_bytes()
    assert raw[:1] == b"{", "not XGBoost's UBJSON/JSON model format"
    assert not raw.startswith(b"\x80"), "a pickle"
    with tarfile.open(result.model_archive) as tar:
        assert tar.getnames() == ["xgboost-model"]
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    test_csv = result.model_file.parents[4] / "preprocess" / "opt" / "ml" / "processing" / "test" / "test.csv"
    rows = pd.read_csv(test_csv, header=None).to_numpy(dtype=np.float32)
    predictions = booster.predict(xgb.DMatrix(rows[:, 1:]))
    assert predictions.shape == (len(rows),)
    assert float(((rows[:, 0] - predictions) ** 2).mean()) == pytest.approx(result.mse, rel=1e-5)


def test_main_fails_over_the_gate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_run(data: Path, work_dir: Path) -> local_run.LocalRunResult:
        return local_run.LocalRunResult(MSE_THRESHOLD + 0.5, work_dir / "m", work_dir / "a", work_dir / "e")

    monkeypatch.setattr(local_run, "run_local", fake_run)
    assert local_run.main(["--work-dir", str(tmp_path)]) == 1
    assert "fails the gate" in capsys.readouterr().err


def test_main_passes_at_the_gate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fake_run(data: Path, work_dir: Path) -> local_run.LocalRunResult:
        return local_run.LocalRunResult(MSE_THRESHOLD, work_dir / "m", work_dir / "a", work_dir / "e")

    monkeypatch.setattr(local_run, "run_local", fake_run)
    assert local_run.main([]) == 0


def test_a_missing_data_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert local_run.main(["--data", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_the_split_is_seeded_and_disjoint() -> None:
    data = preprocess.read_raw(DATA_FILE.parent)
    first, again, other = (preprocess.split(data, seed) for seed in (42, 42, 7))
    for name in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(first[name], again[name])
    assert not first["test"].equals(other["test"])
    assert sum(len(part) for part in first.values()) == len(data) == 4177
    keys = [set(map(tuple, part.itertuples(index=False))) for part in first.values()]
    assert len(keys[0] & keys[2]) < 5  # the data has a few duplicate rows, nothing more


def test_preprocess_writes_label_first_without_header(tmp_path: Path) -> None:
    assert preprocess.main(["--input-dir", str(DATA_FILE.parent), "--output-dir", str(tmp_path)]) == 0
    train = pd.read_csv(tmp_path / "train" / "train.csv", header=None)
    assert train.shape[1] == 1 + 7 + 3  # rings, seven measurements, three one-hot sex columns
    assert train[0].between(1, 29).all()
    assert train.iloc[:, 1:8].mean().abs().max() < 1e-6  # scaled on the training rows


def test_each_job_gets_its_own_arguments_environment_and_folder_and_they_are_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import sys

    before = (sys.argv[:], os.getcwd(), dict(os.environ), sys.path[:])
    broken, empty, test_dir = tmp_path / "job", tmp_path / "empty.tar.gz", tmp_path / "test"
    test_dir.mkdir()
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(RuntimeError, match=r"evaluate.py failed with exit code 1"):
        # no model in the archive: the script's own SystemExit message, then the job's failure
        local_run.run_evaluation(empty, test_dir, broken)
    assert "no xgboost-model file inside" in capsys.readouterr().err
    assert (sys.argv, os.getcwd(), dict(os.environ), sys.path) == before
    assert (broken / "code" / "evaluate.py").is_file()


@pytest.mark.slow
def test_the_jobs_run_in_this_process_so_their_libraries_load_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    def no_child_process(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a job started a process: {args}")

    monkeypatch.setattr(subprocess, "run", no_child_process)
    monkeypatch.setattr(subprocess, "Popen", no_child_process)
    assert local_run.run_local(DATA_FILE, tmp_path).passed
