"""What a released tool has: one version number, a license that matches its metadata, a changelog."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

import scripts
from scripts.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def metadata() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config["metadata"]


def test_the_version_has_one_source() -> None:
    assert metadata()["version"] == "attr: scripts.__version__"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)[0] == scripts.__version__


def test_sm_mlops_version_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.split() == ["sm-mlops", scripts.__version__]


def test_the_license_file_is_the_one_the_metadata_names() -> None:
    assert metadata()["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
