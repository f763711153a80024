"""Address completion and verification against the national address register (BAG).

``load_bag`` builds the local reference store, ``complete`` completes and verifies a frame's addresses,
``load_demo_reference`` builds the small demo store that ``cdq demo`` uses offline.
"""

from __future__ import annotations

from pathlib import Path

from cdq.address.complete import STATUSES, complete
import pandas as pd

from cdq.address.loaders import detect_format, read_reference
from cdq.address.pc4 import read_pc4
from cdq.address.store import AddressStore, default_store_path
from cdq.log import Progress
from cdq.resources import resource

__all__ = ["AddressStore", "STATUSES", "complete", "default_store_path", "load_bag", "load_demo_reference",
           "load_pc4"]


def load_bag(path: str | Path, *, fmt: str | None = None, out: str | Path | None = None,
             progress: Progress | None = None) -> dict:
    """Load a BAG-derived table (``flat``, ``open-csv`` or ``gpkg``) into the store at ``out``.

    Returns the load summary (rows, read, skipped_malformed, duplicates, seconds, size_bytes, ...).
    """
    chunks = read_reference(path, fmt)
    fmt = fmt or detect_format(path)
    with AddressStore.create(out) as store:
        return store.bulk_load(chunks, source=str(path), fmt=fmt, progress=progress)


def load_pc4(paths: list[str | Path], *, out: str | Path | None = None) -> int:
    """Load one or more PC4 -> place/municipality/province tables into the store; returns the rows stored."""
    frame = pd.concat([read_pc4(p) for p in paths], ignore_index=True)
    with AddressStore.open_for_update(out) as store:
        return store.load_pc4(frame, source=";".join(map(str, paths)))


def load_demo_reference(path: str | Path, source: str | Path | None = None) -> AddressStore:
    """Build the demo store at ``path`` from ``reference_data/demo_bag.csv`` (or ``source``) and open it."""
    load_bag(source or resource("reference_data", "demo_bag.csv"), fmt="flat", out=path)
    return AddressStore.open(path)
