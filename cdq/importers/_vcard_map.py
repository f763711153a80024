"""Map the decoded properties of one vCard to a contact row (canonical columns plus raw extras).

N gives the name parts (the additional-names part goes to ``infix`` when it is written in lower case, as
Dutch tussenvoegsels are, else to ``middle_name``), FN the display name, ORG the company, the preferred
EMAIL/TEL/ADR the contact columns; everything else worth keeping (job title, notes, other addresses,
labels) lands in extra columns that staging keeps as ``src:`` columns.
"""

from __future__ import annotations

import re

from cdq.importers._contact import Value, pick_emails, pick_phones

_TIMESTAMP = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_EXTRA_TEXT = {"TITLE": "job_title", "ROLE": "role", "NOTE": "note", "URL": "url", "NICKNAME": "nickname",
               "CATEGORIES": "categories"}


def record(card) -> dict:
    """One row for a parsed card (``card.props`` hold decoded ``.text``)."""
    props = [p for p in card.props if p.name not in ("VERSION", "PRODID")]
    labels = _group_labels(props)
    row: dict = {}
    row.update(_names(_first(props, "N"), _first(props, "FN")))
    row.update(_organisation([p for p in props if p.name == "ORG"]))
    row.update(pick_emails([_value(p, labels) for p in props if p.name == "EMAIL"]))
    row.update(pick_phones([_value(p, labels, _tel) for p in props if p.name == "TEL"]))
    row.update(_addresses([p for p in props if p.name == "ADR"], labels))
    label_texts = [_flat(_unescape(p.text)) for p in props if p.name == "LABEL" and p.text.strip()]
    row["labels"] = " | ".join(label_texts) or None
    if label_texts and not any(p.name == "ADR" for p in props):
        row["address_label"] = label_texts[0]
    row["birth_date"] = _text(_first(props, "BDAY"))
    row["gender"] = _gender(_first(props, "GENDER") or _first(props, "X-GENDER"))
    row["source_key"] = _text(_first(props, "UID"))
    row["source_updated_at"] = iso_timestamp(_text(_first(props, "REV")))
    for name, column in _EXTRA_TEXT.items():
        texts = [_unescape(p.text) for p in props if p.name == name and p.text.strip()]
        row[column] = " | ".join(texts) or None
    return {k: (v if v not in ("",) else None) for k, v in row.items()}


def _first(props, name: str):
    """The preferred property of that name (lowest PREF), else the first."""
    matches = [p for p in props if p.name == name]
    if not matches:
        return None
    return min(matches, key=lambda p: p.pref if p.pref is not None else 10_000)


def _text(prop) -> str | None:
    return _unescape(prop.text) or None if prop is not None else None


def _group_labels(props) -> dict[str, str]:
    """``item1`` -> ``work`` from ``item1.X-ABLabel:_$!<Work>!$_`` (Apple and Google group labels)."""
    labels = {}
    for p in props:
        if p.group and p.name == "X-ABLABEL" and p.text.strip():
            text = _unescape(p.text)
            m = _APPLE_LABEL.match(text)
            labels[p.group] = (m.group(1) if m else text).lower()
    return labels


def _value(prop, labels: dict[str, str], clean=None) -> Value:
    text = _unescape(prop.text)
    types = prop.types + ((labels[prop.group],) if prop.group in labels else ())
    types = tuple(t for t in dict.fromkeys(types) if t not in ("internet", "x400"))
    return Value(clean(text) if clean else text, types, prop.pref)


def _tel(text: str) -> str:
    """``tel:+1-418-656-9254;ext=102`` -> ``+1-418-656-9254 ext. 102`` (vCard 4.0 uri form)."""
    if text.lower().startswith("tel:"):
        text = text[4:]
    return re.sub(r";ext=", " ext. ", text, flags=re.I)


def _names(n, fn) -> dict:
    parts = (_components(n.text) + [""] * 5)[:5] if n is not None else [""] * 5
    family, given, additional, prefix, suffix = (_flat(p) for p in parts)
    if "@" in family and _EMAIL.fullmatch(family):
        family = ""  # an address-book entry named by its e-mail address: no surname
    infix = additional if additional and additional == additional.lower() else ""
    return {
        "last_name": family or None, "first_name": given or None, "infix": infix or None,
        "middle_name": (additional if not infix else "") or None, "title": prefix or None,
        "name_suffix": suffix or None, "full_name": _full_name(fn),
    }


def _full_name(fn) -> str | None:
    text = _flat(_unescape(fn.text)) if fn is not None else ""
    return None if not text or _EMAIL.fullmatch(text.strip("<>\"' ")) else text


def _organisation(orgs) -> dict:
    """First ORG's name in ``company_name``, its units in ``department``, further ORGs kept too."""
    if not orgs:
        return {}
    parts = [[_flat(c) for c in _components(p.text)] for p in orgs]
    parts = [p for p in parts if any(p)]
    if not parts:
        return {}
    first = parts[0]
    return {"company_name": first[0] or None, "department": " / ".join(c for c in first[1:] if c) or None,
            "other_organisations": " | ".join(" / ".join(c for c in p if c) for p in parts[1:]) or None}


def _addresses(adrs, labels) -> dict:
    """Preferred (else first non-empty) ADR in the address columns; others typed in ``other_addresses``."""
    parsed: list[tuple[int, int, tuple[str, ...], list[str]]] = []
    for p in adrs:
        c = [_flat(x) for x in (_components(p.text) + [""] * 7)[:7]]
        if any(c):
            types = p.types + ((labels[p.group],) if p.group in labels else ())
            parsed.append((p.pref if p.pref is not None else 10_000, len(parsed), types, c))
    if not parsed:
        return {}
    parsed.sort(key=lambda t: (t[0], t[1]))
    _, _, _, (pobox, extended, street, city, region, postcode, country) = parsed[0]
    others = ["/".join(t) + ": " + ", ".join(x for x in c if x) if t else ", ".join(x for x in c if x)
              for _, _, t, c in parsed[1:]]
    return {"street": street or (f"Postbus {pobox}" if pobox else None), "po_box": pobox or None,
            "address_extra": extended or None, "city": city or None, "region": region or None,
            "postcode": postcode or None, "country": country or None,
            "other_addresses": " | ".join(others) or None}


def _gender(prop) -> str | None:
    return (_components(prop.text)[0] or None) if prop is not None else None


def _flat(text: str) -> str:
    """Multi-line values (a street over two lines) become one line joined by ', '."""
    return ", ".join(s.strip() for s in re.split(r"[\r\n]+", text) if s.strip())


def iso_timestamp(text: str | None) -> str | None:
    """``20230611T140325Z`` -> ``2023-06-11T14:03:25Z``; text that is no timestamp is kept as it is.

    Examples:
        >>> iso_timestamp("20230611T140325Z"), iso_timestamp("2012-10-07T18:44:22.123+02:00")
        ('2023-06-11T14:03:25Z', '2012-10-07T18:44:22+02:00')
        >>> iso_timestamp("gisteren")
        'gisteren'
    """
    if not text:
        return None
    m = _TIMESTAMP.match(text.strip())
    if not m:
        return text
    y, mo, d, h, mi, s, tz = m.groups()
    if h is None:
        return f"{y}-{mo}-{d}"
    if tz and tz != "Z" and ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{tz or ''}"


def _components(text: str) -> list[str]:
    """Split a structured value on unescaped ';' and unescape each part.

    Examples:
        >>> _components(r"Vries;Jan;de;;")
        ['Vries', 'Jan', 'de', '', '']
        >>> _components(r"ABC\\, Inc.\\;Sales;x")
        ['ABC, Inc.;Sales', 'x']
    """
    return [_unescape(p) for p in re.split(r"(?<!\\);", text.replace("\\\\", "\x00"))]


def _unescape(text: str) -> str:
    """Undo vCard escapes (``\\n``, ``\\,``, ``\\;``, ``\\\\``) and trim."""
    text = re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)
    return text.replace("\x00", "\\").strip()
