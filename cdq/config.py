"""Load YAML files into pydantic models, with errors that name the file, the key and the line.

Rules, pipelines and mapping files are data. A mistake in one is reported all at once (every invalid key,
not just the first), as ``file:line: key.path: what is wrong``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cdq.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _key_lines(node: yaml.Node, prefix: tuple = ()) -> dict[tuple, int]:
    """Map every key path in a composed YAML document to its 1-based line number."""
    lines: dict[tuple, int] = {prefix: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = prefix + (key_node.value,)
            lines.update(_key_lines(value_node, path))
            lines[path] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_key_lines(item, prefix + (i,)))
    return lines


# libyaml's safe loader when PyYAML was built with it: the same documents and line marks, parsed ~10x faster
# (rules and reference files are read on every import and run)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; return the data and a key-path → line map. Raises ConfigError if unreadable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the file ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text; save the YAML file as UTF-8") from e
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (libyaml's when installed)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(e, 'problem', e)})") from e
    return data, (_key_lines(node) if node is not None else {})


def load_model(path: str | Path, model: type[M], data: Any = None) -> M:
    """Validate a YAML file against ``model``; every problem is listed with file, line and key path."""
    raw, lines = read_yaml(path)
    try:
        return model.model_validate(raw if data is None else data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(err["loc"])
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            key = ".".join(str(p) for p in loc) or "(top level)"
            given = err.get("input")
            got = f" (got {given!r})" if isinstance(given, (str, int, float, bool)) else ""
            problems.append(f"{path}:{line or '?'}: {key}: {err['msg']}{got}")
        raise ConfigError(
            f"{len(problems)} problem(s) in {path}:\n  " + "\n  ".join(problems)
        ) from None
