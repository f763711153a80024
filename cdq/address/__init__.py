"""Address completion and verification against the national address registers (BAG; BeST-Address for Belgium).

``load_bag`` builds the local reference store from the register as downloaded (format detected from the file:
LV BAG XML extract, PDOK GeoPackage, NLExtract or bagconv output, cdq's flat CSV, BeST-Address CSV or XML),
``complete`` completes and verifies a frame's addresses, ``lookup`` does one address (with the letters and
additions the register holds at that number), ``load_demo_reference`` builds the small demo store that
``cdq demo`` uses offline. ``STATUSES`` lists every ``address_status`` value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cdq.address.complete import STATUSES, complete
from cdq.address.loaders import detect_format, read_reference
from cdq.address.lookup import AddressLookup, lookup
from cdq.address.pc4 import read_pc4
from cdq.address.store import AddressStore, default_store_path
from cdq.errors import InputError
from cdq.log import Progress
from cdq.resources import resource

__all__ = ["AddressLookup", "AddressStore", "STATUSES", "complete", "default_store_path", "load_bag",
           "load_demo_reference", "load_pc4", "lookup"]


def load_bag(path: str | Path, *, fmt: str | None = None, out: str | Path | None = None,
             progress: Progress | None = None, municipalities: str | Path | None = None) -> dict:
    """Load an address register file into the store at ``out``; the format is detected unless ``fmt`` is given.

    Dutch formats replace the Dutch addresses in the store; a Belgian BeST-Address file replaces only its
    region's Belgian addresses. ``municipalities`` is CBS's municipality table, used by the LV BAG extract
    (which names municipalities only by code). Returns the load summary (rows, read, skipped_malformed,
    duplicates, conflicting_duplicates, not_usable, standdatum, seconds, size_bytes, ...).
    """
    if not Path(path).exists():
        raise InputError(path, "file not found", hint="check the path")
    fmt = fmt or detect_format(path)
    info: dict = {}
    chunks = read_reference(path, fmt, municipalities=municipalities, info=info)
    if fmt in ("best-csv", "best-xml"):
        from cdq.address.belgium import load_best

        with AddressStore.open_for_update(out) as store:
            return load_best(store, chunks, source=str(path), progress=progress, fmt=fmt)
    with AddressStore.create(out) as store:
        return store.bulk_load(chunks, source=str(path), fmt=fmt, progress=progress, info=info)


def load_pc4(paths: Sequence[str | Path], *, out: str | Path | None = None) -> int:
    """Load one or more PC4 -> place/municipality/province tables into the store; returns the rows stored."""
    frame = pd.concat([read_pc4(p) for p in paths], ignore_index=True)
    with AddressStore.open_for_update(out) as store:
        return store.load_pc4(frame, source=";".join(map(str, paths)))


def load_demo_reference(path: str | Path, source: str | Path | None = None) -> AddressStore:
    """Build the demo store at ``path`` from ``reference_data/demo_bag.csv`` (or ``source``) and open it."""
    load_bag(source or resource("reference_data", "demo_bag.csv"), fmt="flat", out=path)
    return AddressStore.open(path)


def _register_reasons() -> None:
    from cdq.reasons import register

    codes = {
        "ADDRESS_INVALID_POSTCODE": "address: postcode is not 4 digits + 2 letters (not SA/SD/SS)",
        "ADDRESS_INVALID_HOUSE_NUMBER": "address: house number is not 1-5 digits",
        "ADDRESS_INCOMPLETE": "address: needs postcode + house number, or street + house number + city",
        "ADDRESS_NOT_FOUND": "address: the house number (or postcode) does not exist in the register",
        "ADDRESS_AMBIGUOUS": "address: several register addresses fit; nothing was filled in",
        "ADDRESS_POSTCODE_FOUND": "address: postcode found from street + house number + city",
        "ADDRESS_STREET_MISMATCH": "address: the street differs from the register's at this postcode; kept as typed",
        "POSTCODE_CITY_MISMATCH": "address: the city does not belong to this postcode; kept as typed",
        "ADDRESS_ADDITION_CORRECTED": "address: house number addition rewritten as the register has it",
        "ADDRESS_ADDITION_COMPLETED": "address: house number addition filled in from the register",
        "ADDRESS_ADDITION_NOT_FOUND": "address: the register does not hold this letter/addition at this number "
                                      "(status addition_not_found; no BAG id given)",
        "ADDRESS_WITHDRAWN": "address: the register lists this address as withdrawn (status withdrawn; no BAG id)",
        "ADDRESS_NUMBER_RANGE": "address: a range of house numbers (150-152, 112 t/m 113) is several addresses "
                                "(status range)",
        "ADDRESS_REGISTER_DUPLICATE": "address: the register lists this address twice with different content "
                                      "(status ambiguous)",
        "ADDRESS_POSTBUS": "address: a Postbus with a valid postcode in a known postcode area (status postbus)",
        "ADDRESS_ANTWOORDNUMMER": "address: an Antwoordnummer with a valid postcode in a known postcode area "
                                  "(status antwoordnummer)",
        "ADDRESS_POSTAL_INVALID": "address: a Postbus/Antwoordnummer without a 1-6 digit number or a valid postcode",
    }
    for column in ("street", "city"):
        codes[f"ADDRESS_{column.upper()}_STANDARDISED"] = f"address: {column} spelling standardised to the register"
        codes[f"ADDRESS_{column.upper()}_CORRECTED"] = f"address: {column} corrected to the register"
        codes[f"ADDRESS_{column.upper()}_COMPLETED"] = f"address: {column} filled in from the register"
    for code, text in codes.items():
        register(code, text, stage="address")


_register_reasons()
