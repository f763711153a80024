"""One address at a time: ``cdq.address.lookup(postcode, house_number, addition)``.

For a service or a form: the same verdict :func:`cdq.address.complete` gives a file row (taken by
:func:`cdq.address.one.complete_one`: one indexed query and scalar rules, no frames), plus every letter/addition the register holds at that number, so a caller can
offer "105-1, 105-2, 105-3, 105-H" when the typed one does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdq.address.keys import encode_postcodes
from cdq.address_parts import split_house_number


@dataclass(frozen=True)
class AddressLookup:
    """The register's answer for one typed address.

    ``status`` is an ``address_status`` value (:data:`cdq.address.STATUSES`); street, city, municipality,
    province, ``bag_id`` and the number parts are the register's (``None`` where it does not settle them);
    ``existing`` lists every address label the register holds at that postcode and number ("105-1", "105H").
    """

    status: str
    postcode: str | None
    house_number: str | None
    house_letter: str | None
    house_number_addition: str | None
    street: str | None
    city: str | None
    municipality: str | None
    province: str | None
    bag_id: str | None
    existing: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def label(number: object, letter: object, addition: object) -> str:
    """The register's way of writing one address number: ``105``, ``105A``, ``105-1``, ``105A-2``.

    Examples:
        >>> label(105, None, "H"), label(12, "b", None), label(7, "A", "2")
        ('105-H', '12b', '7A-2')
    """
    text = f"{number}{letter or ''}"
    return f"{text}-{addition}" if addition else text


def existing_labels(store: Any, postcode: str | None, number: int | None) -> list[str]:
    """Every address label the register holds at ``postcode`` + ``number`` (sorted), none if unknown."""
    if not postcode or number is None:
        return []
    code = encode_postcodes(pd.Series([postcode]))
    if code[0] < 0:
        return []
    rows = store.lookup(code, np.array([number], dtype=np.int64))
    if "usable" in rows.columns:
        rows = rows[rows["usable"].astype(bool)]
    labels = {label(n, l, a) for n, l, a in zip(rows["number"], rows["letter"], rows["addition"])}
    return sorted(labels, key=lambda s: (len(s), s))


def lookup(postcode: str | None, house_number: str | int | None, addition: str | None = None, *,
           store: Any = None, letter: str | None = None, street: str | None = None, city: str | None = None,
           country: str | None = None) -> AddressLookup:
    """Verify one address against the register.

    Args:
        postcode: "1011 AB", "1011ab", ...
        house_number: 105, "105", or combined "105-1" / "105 hs" / "12B".
        addition: letter and/or addition as typed ("1", "H", "B", "hs", "1 hoog"); may be empty.
        store: an open :class:`~cdq.address.store.AddressStore`, a path to one, or ``None`` for the default
            store (``$CDQ_BAG_STORE`` or ``~/.cache/cdq/bag.sqlite``).
        letter: the house letter if the caller keeps it apart from the addition.
        street, city: as typed, if known (checked too; a Belgian address needs the street).
        country: "BE"/"België"/... for a Belgian address (BeST-Address); empty means the Netherlands unless the
            postcode is a Belgian one the loaded BeST-Address knows.

    Returns:
        :class:`AddressLookup` with the same status :func:`cdq.address.complete` gives this address.

    Examples:
        >>> from cdq.address import load_demo_reference
        >>> import tempfile, os
        >>> s = load_demo_reference(os.path.join(tempfile.mkdtemp(), "demo.sqlite"))
        >>> lookup("2132aa", 7, store=s).status in ("verified", "completed", "not_found")
        True
    """
    from cdq.address.one import complete_one, encode_postcode, register_rows, squash_postcode
    from cdq.address.store import AddressStore

    owned = None
    if store is None or isinstance(store, (str, Path)):
        store = owned = AddressStore.open(store)
    try:
        typed = {"street": street, "house_number": None if house_number is None else str(house_number),
                 "house_letter": letter, "house_number_addition": addition, "postcode": postcode, "city": city,
                 "country": country}
        row, findings = complete_one(typed, store, "lookup")
        pc = squash_postcode(postcode) if postcode else None
        parts = split_house_number(str(house_number).strip()) if house_number is not None else None
        typed_number = int(parts.number) if parts is not None and parts.number else 0
        number = typed_number if 0 < typed_number <= 99999 else None
        if getattr(store, "conn", None) is not None:  # the local reference: one indexed query
            code = encode_postcode(pc) if number is not None else -1
            found = register_rows(store, code, number) if number is not None and code >= 0 else []
            rows = [r for r in found if r["usable"]]
            existing = sorted({label(number, r["letter"], r["addition"]) for r in rows}, key=lambda s: (len(s), s))
        else:
            existing = existing_labels(store, pc, number)
        verified = row["address_status"] in ("verified", "completed", "corrected")

        def value(column: str) -> str | None:
            v = row.get(column)
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

        return AddressLookup(
            status=str(row["address_status"]), postcode=value("postcode"),
            house_number=value("house_number") if verified else None,
            house_letter=value("house_letter") if verified else None,
            house_number_addition=value("house_number_addition") if verified else None,
            street=value("street"), city=value("city"), municipality=value("municipality"),
            province=value("province"), bag_id=value("bag_address_id"), existing=existing,
            reasons=sorted({f["reason_code"] for f in findings}))
    finally:
        if owned is not None:
            owned.close()
