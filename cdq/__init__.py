"""cdq: customer data quality and deduplication for Dutch and Belgian organisations.

Every pipeline stage is one library call (frame and config in, frame and findings out); the ``cdq`` command
line and the pipeline runner only chain them. The names below and the stage subpackages (``cdq.normalize``,
``cdq.address``, ``cdq.names``, ``cdq.linkage``, ``cdq.golden``, ``cdq.gates``, ``cdq.crm``, ...) with their
own ``__all__`` are the public API (see ``docs/api.md``).
They load lazily, so ``import cdq`` stays cheap: a stage's dependencies (pandas, Great Expectations, ...)
are imported on first use.

Examples:
    >>> import cdq
    >>> cdq.__version__
    '0.1.0'
    >>> cdq.clean_files.__module__
    'cdq.clean'
    >>> cdq.linkage.dedupe.__module__   # a stage: its subpackage and its entry function
    'cdq.linkage'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name → module it lives in (a module name alone: the name is that module)
_EXPORTS: dict[str, str] = {
    # files in, files out
    "clean_files": "cdq.clean",
    "CleanResult": "cdq.clean",
    "import_inputs": "cdq.staging",
    "ImportResult": "cdq.staging",
    "write_table": "cdq.export",
    # the stages
    "complete": "cdq.address",
    "check_names_file": "cdq.names.tables",
    "dedupe": "cdq.linkage",
    "link": "cdq.linkage",
    "survive": "cdq.survivorship",
    "merge_batch": "cdq.golden",
    "run_gates": "cdq.gates",
    "load_from_store": "cdq.crm",
    "printouts_from": "cdq.printouts",
    "apply_returned": "cdq.printouts",
    "run_pipeline": "cdq.pipeline",
    # stores and settings
    "GoldenStore": "cdq.store",
    "AddressStore": "cdq.address",
    # errors and logging
    "CdqError": "cdq.errors",
    "InputError": "cdq.errors",
    "ConfigError": "cdq.errors",
    "UsageError": "cdq.errors",
    "CheckFailed": "cdq.errors",
    "enable_logging": "cdq.log",
}

#: subpackages reachable as attributes (``cdq.linkage.dedupe``) without importing them first
_SUBMODULES = ("address", "crm", "gates", "golden", "importers", "linkage", "names", "normalize", "printouts",
               "privacy", "reporting", "review", "store", "survivorship")

__all__ = [
    "__version__",
    "clean_files",
    "CleanResult",
    "import_inputs",
    "ImportResult",
    "write_table",
    "complete",
    "check_names_file",
    "dedupe",
    "link",
    "survive",
    "merge_batch",
    "run_gates",
    "load_from_store",
    "printouts_from",
    "apply_returned",
    "run_pipeline",
    "GoldenStore",
    "AddressStore",
    "CdqError",
    "InputError",
    "ConfigError",
    "UsageError",
    "CheckFailed",
    "enable_logging",
]

_ALIASES = {"enable_logging": "enable"}


def __getattr__(name: str) -> Any:
    """Import a public name (or a stage subpackage) on first use."""
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = getattr(module, _ALIASES.get(name, name))
    elif name in _SUBMODULES:
        value = importlib.import_module(f"cdq.{name}")
    else:
        raise AttributeError(f"module 'cdq' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])


if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from cdq.address import AddressStore
    from cdq.address.complete import complete
    from cdq.clean import CleanResult, clean_files
    from cdq.crm import load_from_store
    from cdq.errors import CdqError, CheckFailed, ConfigError, InputError, UsageError
    from cdq.export import write_table
    from cdq.gates import run_gates
    from cdq.golden import merge_batch
    from cdq.linkage import dedupe, link
    from cdq.log import enable as enable_logging
    from cdq.names.tables import check_names_file
    from cdq.pipeline import run_pipeline
    from cdq.printouts import apply_returned, printouts_from
    from cdq.staging import ImportResult, import_inputs
    from cdq.store import GoldenStore
    from cdq.survivorship import survive
