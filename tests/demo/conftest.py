"""`demo/` is not an installed package (setup.cfg installs generator, scripts, seeding, standin):
import it from the checkout, as `python -m demo` does from the repository root."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
