"""Recognise the contact CSV layouts of Outlook (English and Dutch), Google Contacts and Thunderbird.

These exports have fixed, well-known headers, so the adapter decides their mapping itself
(:attr:`RawTable.premapped`) instead of trusting the generic synonym table: in an Outlook export
``Middle Name`` is where Dutch users type the tussenvoegsel, and ``Home Street`` holds street and number.
"""

from __future__ import annotations

import re

import pandas as pd

from cdq.headers import header_key
from cdq.importers._contact import Value

#: Google Contacts puts several values in one cell, separated by this.
GOOGLE_SEPARATOR = " ::: "
_GOOGLE_COLUMN = re.compile(r"^(E-mail|Phone|Address) (\d+) - (.+)$", re.I)
_ADDRESS_PARTS = ["street", "extended address", "po box", "postal code", "city", "region", "country"]

#: layout -> (signature header keys, at least how many of them, [(canonical target, [header keys])]).
LAYOUTS: dict[str, tuple[set[str], int, list[tuple[str, list[str]]]]] = {
    "google": (
        {
            "givenname",
            "familyname",
            "email1value",
            "phone1value",
            "groupmembership",
            "address1formatted",
            "organization1name",
            "email1type",
            "phone1type",
            "labels",
        },
        3,
        [
            ("title", ["nameprefix"]),
            ("first_name", ["givenname", "firstname"]),
            ("infix", ["additionalname", "middlename"]),
            ("last_name", ["familyname", "lastname"]),
            ("full_name", ["name"]),
            ("gender", ["gender"]),
            ("birth_date", ["birthday"]),
            ("company_name", ["organization1name", "organizationname"]),
            ("email", ["email1value"]),
            ("other_emails", ["otheremails"]),  # added by google_multi_values
            ("phone", ["phone1value"]),
            ("other_phones", ["otherphones"]),
            ("street_and_number", ["address1street"]),
            ("address_line", ["address1formatted"]),
            ("postcode", ["address1postalcode"]),
            ("city", ["address1city"]),
            ("country", ["address1country"]),
        ],
    ),
    "outlook": (
        {
            "emailaddress",
            "email2address",
            "homestreet",
            "businessstreet",
            "businessphone",
            "mobilephone",
            "homepostalcode",
            "businesspostalcode",
            "middlename",
            "jobtitle",
            "emaildisplayname",
        },
        2,
        [
            ("title", ["title"]),
            ("first_name", ["firstname"]),
            ("infix", ["middlename"]),
            ("last_name", ["lastname"]),
            ("gender", ["gender"]),
            ("birth_date", ["birthday"]),
            ("company_name", ["company"]),
            ("email", ["emailaddress"]),
            ("other_emails", ["email2address"]),
            ("phone", ["homephone", "businessphone", "primaryphone"]),
            ("mobile", ["mobilephone"]),
            ("street_and_number", ["homestreet", "businessstreet"]),
            ("postcode", ["homepostalcode", "businesspostalcode"]),
            ("city", ["homecity", "businesscity"]),
            ("country", ["homecountryregion", "businesscountryregion"]),
        ],
    ),
    "outlook_nl": (
        {
            "middelstenaam",
            "huisadresstraat",
            "huisadrespostcode",
            "huisadresplaats",
            "emailadres2",
            "telefoonopwerk",
            "telefoonthuis",
            "mobieletelefoon",
            "werkadresstraat",
        },
        2,
        [
            ("title", ["titel"]),
            ("first_name", ["voornaam"]),
            ("infix", ["middelstenaam"]),
            ("last_name", ["achternaam"]),
            ("birth_date", ["verjaardag"]),
            ("company_name", ["bedrijf"]),
            ("email", ["emailadres"]),
            ("other_emails", ["emailadres2"]),
            ("phone", ["telefoonthuis", "telefoonopwerk"]),
            ("mobile", ["mobieletelefoon"]),
            ("street_and_number", ["huisadresstraat", "werkadresstraat"]),
            ("postcode", ["huisadrespostcode", "werkadrespostcode"]),
            ("city", ["huisadresplaats", "werkplaats"]),
            ("country", ["landregiothuis", "landregiowerk"]),
        ],
    ),
    "thunderbird": (
        {
            "primaryemail",
            "secondaryemail",
            "homezipcode",
            "workzipcode",
            "mobilenumber",
            "homeaddress",
            "displayname",
            "screenname",
        },
        4,
        [
            ("first_name", ["firstname"]),
            ("last_name", ["lastname"]),
            ("full_name", ["displayname"]),
            ("email", ["primaryemail"]),
            ("other_emails", ["secondaryemail"]),
            ("phone", ["homephone", "workphone"]),
            ("mobile", ["mobilenumber"]),
            ("street_and_number", ["homeaddress", "workaddress"]),
            ("postcode", ["homezipcode", "workzipcode"]),
            ("city", ["homecity", "workcity"]),
            ("country", ["homecountry", "workcountry"]),
            ("company_name", ["organization"]),
        ],
    ),
}


def detect_layout(headers: list[str]) -> str | None:
    """The known contact-export layout these headers come from, or ``None``.

    Examples:
        >>> detect_layout(["First Name", "Middle Name", "Last Name", "E-mail Address", "Home Street"])
        'outlook'
        >>> detect_layout(["Name", "Given Name", "Family Name", "E-mail 1 - Value"])
        'google'
        >>> detect_layout(["Klantnummer", "Naam"]) is None
        True
    """
    keys = {header_key(h) for h in headers}
    best, best_hits = None, 0
    for layout, (signature, minimum, _) in LAYOUTS.items():
        hits = len(keys & signature)
        if hits >= minimum and hits > best_hits:
            best, best_hits = layout, hits
    return best


def premap(headers: list[str]) -> tuple[dict[str, str], str | None]:
    """``({header: canonical target}, layout)`` for a recognised layout, else ``({}, None)``.

    Examples:
        >>> mapped, layout = premap(["First Name", "Middle Name", "Last Name", "E-mail Address"])
        >>> layout, mapped["Middle Name"], mapped["E-mail Address"]
        ('outlook', 'infix', 'email')
    """
    layout = detect_layout(headers)
    if layout is None:
        return {}, None
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    chosen: dict[str, str] = {}
    for target, keys in LAYOUTS[layout][2]:
        # every listed column is kept (home and business address, three phones): staging chooses per row
        for header in (by_key[k] for k in keys if k in by_key and by_key[k] not in chosen):
            chosen[header] = target
    return {h: chosen[h] for h in headers if h in chosen}, layout


def google_multi_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Split Google's `` ::: `` multi-values: the first stays, the rest go to ``other_*`` columns.

    ``E-mail 1 - Value`` / ``Phone 1 - Value`` / the ``Address 1 - ...`` cells keep their first value;
    their further values and every value of the ``E-mail 2+``, ``Phone 2+`` and ``Address 2+`` columns are
    typed with their label (``mobile:06...``, like the vCard adapter) and ';'-joined in the new columns
    ``other_emails`` / ``other_phones``, ``other_addresses`` (' | '-joined: addresses hold commas).

    Examples:
        >>> f = pd.DataFrame({"Phone 1 - Label": ["Mobile ::: Home"], "Phone 1 - Value": ["06 1 ::: 050 2"],
        ...                   "Phone 2 - Label": ["Work"], "Phone 2 - Value": ["010 3"]})
        >>> google_multi_values(f)[["Phone 1 - Value", "other_phones"]].values.tolist()
        [['06 1', 'home:050 2; work:010 3']]
    """
    groups: dict[tuple[str, int], dict[str, str]] = {}
    for header in frame.columns:
        m = _GOOGLE_COLUMN.match(str(header))
        if m:
            kind = m.group(1).lower().replace("-", "")
            groups.setdefault((kind, int(m.group(2))), {})[m.group(3).strip().lower()] = header
    if not groups:
        return frame
    frame = frame.copy()
    others: dict[str, list[list[str]]] = {
        k: [[] for _ in range(len(frame))] for k in ("email", "phone", "address")
    }
    for (kind, number), parts in sorted(groups.items()):
        label_col = parts.get("label") or parts.get("type")
        labels = [_split(v) for v in frame[label_col]] if label_col else [[] for _ in range(len(frame))]
        if kind == "address":
            value_cols = [c for k, c in parts.items() if k not in ("label", "type")]
        else:
            value_cols = [parts["value"]] if "value" in parts else []
        if not value_cols:
            continue
        split = {c: [_split(v) for v in frame[c]] for c in value_cols}
        keep_first = number == 1
        if keep_first:
            for c in value_cols:
                frame[c] = [vals[0] if vals else None for vals in split[c]]
        for i in range(len(frame)):
            count = max(len(split[c][i]) for c in value_cols)
            for j in range(1 if keep_first else 0, count):
                label = _label(labels[i], j)
                if kind == "address":
                    text = _address_text({k: _at(split[parts[k]][i], j) for k in parts if parts[k] in split})
                    if text:
                        others["address"][i].append(f"{label}: {text}" if label else text)
                else:
                    value = _at(split[value_cols[0]][i], j)
                    if value:
                        others[kind][i].append(Value(value, (label,) if label else ()).typed())
    for kind, column, sep in (("email", "other_emails", "; "), ("phone", "other_phones", "; "),
                              ("address", "other_addresses", " | ")):
        if any(kind == k for k, _ in groups) and column not in frame.columns:
            joined = [sep.join(v) or None for v in others[kind]]
            frame[column] = pd.Series(joined, index=frame.index, dtype="object")
    return frame


def _split(cell) -> list[str]:
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return []
    return [part.strip() for part in str(cell).split(GOOGLE_SEPARATOR.strip())] if str(cell).strip() else []


def _at(values: list[str], j: int) -> str:
    return values[j] if j < len(values) else ""


def _label(labels: list[str], j: int) -> str:
    """The label of value ``j``; one label for several values applies to all. ``* Home`` -> ``home``."""
    text = labels[j] if j < len(labels) else (labels[0] if len(labels) == 1 else "")
    return text.lstrip("* ").strip().lower()


def _address_text(parts: dict[str, str]) -> str:
    """The formatted address on one line, else its parts joined with ', '."""
    formatted = parts.get("formatted", "")
    if formatted:
        return ", ".join(line.strip() for line in formatted.splitlines() if line.strip())
    return ", ".join(parts[k] for k in _ADDRESS_PARTS if parts.get(k))


def thunderbird_birth_date(frame: pd.DataFrame) -> pd.DataFrame:
    """Thunderbird writes the birthday as three columns (Birth Year, Birth Month, Birth Day): one ISO date.

    A date without a year becomes ``--MM-DD`` (vCard's form); the three columns stay as ``src:`` columns.

    Examples:
        >>> f = pd.DataFrame({"Birth Year": ["1980", None], "Birth Month": ["2", "12"], "Birth Day": ["3", "24"]})
        >>> thunderbird_birth_date(f)["birth_date"].tolist()
        ['1980-02-03', '--12-24']
    """
    parts = {header_key(c): c for c in frame.columns}
    if not {"birthmonth", "birthday"} <= set(parts) or "birth_date" in frame.columns:
        return frame
    year = frame[parts["birthyear"]] if "birthyear" in parts else pd.Series([None] * len(frame), index=frame.index)
    out: list[str | None] = []
    for y, m, d in zip(year, frame[parts["birthmonth"]], frame[parts["birthday"]], strict=True):
        if not (str(m or "").strip().isdigit() and str(d or "").strip().isdigit()):
            out.append(None)
            continue
        month, day = int(str(m).strip()), int(str(d).strip())
        y_text = str(y or "").strip()
        out.append(f"{int(y_text):04d}-{month:02d}-{day:02d}" if y_text.isdigit() else f"--{month:02d}-{day:02d}")
    frame = frame.copy()
    frame["birth_date"] = pd.Series(out, index=frame.index, dtype="object")
    return frame
