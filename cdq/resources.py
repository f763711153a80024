"""Find the project's data folders (``rules/``, ``reference_data/``, ``pipelines/``, ``fixtures/``).

They live at the top of the repository (the layout DESIGN.md fixes). The wheel's build step (``setup.py``)
copies them into the package as ``cdq/data/<folder>``, read here with :mod:`importlib.resources`; a source
checkout or an editable install reads them in place, beside the package.

Examples:
    >>> resource("rules", "matching.yaml").name
    'matching.yaml'
    >>> resource("pipelines", "demo.yaml").is_file()
    True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from cdq.errors import CdqError

FOLDERS = ("rules", "reference_data", "pipelines", "fixtures")


def _roots() -> list[Path]:
    """Where the data folders may be: inside the installed package first, then the checkout."""
    package = Path(str(files("cdq")))
    return [package / "data", package.parent]


def resource(*parts: str) -> Path:
    """Absolute path of a bundled resource, e.g. ``resource("rules", "headers.yaml")``.

    Raises:
        CdqError: the resource is in none of the places (a broken install).
    """
    if not parts or parts[0] not in FOLDERS:
        raise ValueError(f"resource() takes a path under one of {FOLDERS}, not {'/'.join(parts)!r}")
    for root in _roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise CdqError(
        f"bundled resource {'/'.join(parts)} not found",
        hint="reinstall cdq (`pip install cdq` or `pip install -e .` from the repository)",
    )


def reference_yaml(*parts: str) -> Any:
    """A bundled YAML table (``reference_yaml("reference_data", "nicknames.yaml")``), parsed with libyaml's
    C loader where installed: the name and form tables are read on every run, and the pure-Python parser
    took half a second of a 100k-record linkage run.

    Examples:
        >>> "any" in reference_yaml("reference_data", "placeholders.yaml")
        True
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(resource(*parts).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
