"""Find the project's data folders (``rules/``, ``reference_data/``, ``pipelines/``, ``fixtures/``).

They live at the top of the repository (the layout the design fixes). An editable install finds them
beside the package; a wheel install carries them under ``<prefix>/share/cdq``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cdq.errors import CdqError

_PACKAGE_DIR = Path(__file__).resolve().parent
FOLDERS = ("rules", "reference_data", "pipelines", "fixtures")


def _roots() -> list[Path]:
    return [_PACKAGE_DIR.parent, Path(sys.prefix) / "share" / "cdq"]


def resource(*parts: str) -> Path:
    """Absolute path of a bundled resource, e.g. ``resource("rules", "headers.yaml")``."""
    for root in _roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise CdqError(
        f"bundled resource {'/'.join(parts)} not found",
        hint="reinstall cdq with `pip install -e .` from the repository",
    )
