"""The wheel carries what `sm-mlops` needs at run time and a checkout keeps outside the packages.

At build time (wheel, or an sdist being built into a wheel) the rendered templates and the README go into
`scripts/shipped/`, and the seed and bootstrap zips, built from `seeding/asset-files.txt` exactly as
`register` builds them in a checkout, into `seeding/shipped/` under their asset-bucket keys. Nothing is
written into the source tree.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithShippedData(build_py):
    """build_py, plus the templates, README and asset zips as package data."""

    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(HERE))
        from seeding import assets

        out = Path(self.build_lib)
        templates = sorted((HERE / "templates").glob("*.yaml"))
        if not templates:
            raise SystemExit(f"{HERE / 'templates'} holds no rendered template: run `make templates` first")
        shipped = out / "scripts" / "shipped"
        (shipped / "templates").mkdir(parents=True, exist_ok=True)
        for template in templates:
            shutil.copyfile(template, shipped / "templates" / template.name)
        shutil.copyfile(HERE / "README.md", shipped / "README.md")
        for asset in assets.build_assets(HERE).values():
            target = out / "seeding" / "shipped" / asset.key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(asset.data)


setup(cmdclass={"build_py": BuildWithShippedData})
