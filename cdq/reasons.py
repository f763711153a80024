"""The documented, stable registry of reason codes (``code -> description``).

Every stage flags rows with UPPER_SNAKE reason codes (in the ``issues`` column and in findings). The codes
are a public interface: exports, quality gates and stewards' filters depend on them, so a code is never
renamed or reused for something else. Stages add their own codes at import time with :func:`register`;
``docs/reason_codes.md`` is generated from the registry by :func:`markdown` (a test keeps it up to date).

Examples:
    >>> describe("POSTCODE_INVALID")
    'postcode is not a valid Dutch postcode (4 digits not starting with 0, 2 letters, never SA/SD/SS)'
    >>> register("POSTCODE_INVALID", REASONS["POSTCODE_INVALID"]["description"], stage="normalize")
    'POSTCODE_INVALID'
"""

from __future__ import annotations

import re

#: code -> {"description": ..., "stage": ...}. Import it to read; call :func:`register` to add.
REASONS: dict[str, dict[str, str]] = {}

_CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")


def register(code: str, description: str, *, stage: str = "general") -> str:
    """Add a reason code to the registry; re-registering the same code with the same text is a no-op.

    Raises ValueError for a code that is not UPPER_SNAKE or that is already registered with another
    description (codes are stable: a second meaning would break every consumer).

    Examples:
        >>> register("EXAMPLE_ONLY_CODE", "used in this docstring only", stage="docs")
        'EXAMPLE_ONLY_CODE'
        >>> _ = REASONS.pop("EXAMPLE_ONLY_CODE")
    """
    if not _CODE.match(code):
        raise ValueError(f"reason code {code!r} must be UPPER_SNAKE (A-Z, 0-9, _)")
    known = REASONS.get(code)
    if known and known["description"] != description:
        raise ValueError(f"reason code {code} is already registered as {known['description']!r}")
    REASONS[code] = {"description": description, "stage": known["stage"] if known else stage}
    return code


def describe(code: str) -> str:
    """The description of a registered code (KeyError names the unknown code)."""
    return REASONS[code]["description"]


def markdown() -> str:
    """The reason code reference as Markdown (the content of ``docs/reason_codes.md``)."""
    _load_all()
    lines = [
        "# Reason codes",
        "",
        "Generated from `cdq/reasons.py` by `cdq.reasons.markdown()`; do not edit by hand.",
        "Codes are stable: they are never renamed or given another meaning.",
        "",
        "| code | stage | meaning |",
        "| --- | --- | --- |",
    ]
    for code in sorted(REASONS):
        entry = REASONS[code]
        lines.append(f"| `{code}` | {entry['stage']} | {entry['description'].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _load_all() -> None:
    """Import the stage modules that register codes, so the registry is complete."""
    import importlib

    for module in ("cdq.normalize", "cdq.address", "cdq.names", "cdq.names.hold", "cdq.hygiene"):
        importlib.import_module(module)


_NORMALIZE = {
    "POSTCODE_INVALID": "postcode is not a valid Dutch postcode (4 digits not starting with 0, 2 letters, "
    "never SA/SD/SS)",
    "POSTCODE_REFORMATTED": "postcode rewritten to the canonical form '1234 AB'",
    "HOUSE_NUMBER_INVALID": "house number has no 1-5 digit number, or its letter/addition cannot be read",
    "HOUSE_NUMBER_SPLIT": "house number text split into number, letter and addition",
    "STREET_NUMBER_SPLIT": "a house number typed in the street field was split off",
    "PHONE_NOT_DIALABLE": "phone number is not a valid, dialable number",
    "PHONE_REFORMATTED": "phone number rewritten to E.164",
    "PHONE_MOVED_TO_MOBILE": "a mobile number in the phone field was moved to mobile",
    "PHONE_MOVED_TO_PHONE": "a fixed-line number in the mobile field was moved to phone",
    "EMAIL_INVALID": "e-mail address is not syntactically valid",
    "EMAIL_DOMAIN_TYPO": "e-mail domain looks like a typo of a common provider (see email_suggestion)",
    "EMAIL_ROLE_ADDRESS": "e-mail address is a role address (info@, sales@, ...), not a person's",
    "EMAIL_NO_REPLY": "e-mail address is a no-reply address",
    "EMAIL_UNDELIVERABLE": "e-mail domain does not accept mail (only with the optional DNS check)",
    "EMAIL_REFORMATTED": "e-mail address trimmed or lower-cased",
    "NAME_INFIX_MOVED": "a surname prefix (tussenvoegsel) typed in another field was moved to infix",
    "NAME_INFIX_ABBREVIATED": "the surname prefix is abbreviated (v.d., v.) and kept as typed; check it",
    "NAME_RECASED": "name parts re-cased per Dutch rules",
    "NAME_TITLE_MOVED": "a title or salutation typed in a name field was moved to title",
    "NAME_INITIALS_DERIVED": "initials derived from the first name",
    "NAME_INITIALS_REFORMATTED": "initials rewritten as 'J.P.'",
    "NAME_PARTNER_SPLIT": "a partner name (Jansen-de Vries, Jansen geb. de Vries) split into own and "
    "partner parts",
    "NAME_SUFFIX_MOVED": "a name suffix (jr., sr.) was moved to suffix",
    "NAME_COUPLE": "the name names two people ('J. en M. de Vries', 'Dhr. en Mevr. Jansen'): the record keeps "
    "the first, the letter lines name both; split it into two records if both are customers",
    "GENDER_DERIVED": "gender derived from the title, salutation or first name",
    "GENDER_CONFLICT": "the gender field contradicts the salutation or title",
    "GENDER_UNKNOWN_VALUE": "the gender field holds a value that is not a known gender",
    "COUNTRY_REFORMATTED": "country written as its ISO 3166 code (Nederland → NL, België → BE)",
    "COUNTRY_UNKNOWN": "country names no known country; kept as typed",
    "COUNTRY_DEFAULTED": "an address without a country: the default region (NL)",
    "DATE_INVALID": "date cannot be read or does not exist (e.g. 31-02-1961)",
    "DATE_AMBIGUOUS": "day and month could be swapped (both 12 or less); read as day-month",
    "DATE_IMPLAUSIBLE": "birth date is in the future or more than 120 years ago",
    "DATE_REFORMATTED": "date rewritten as ISO yyyy-mm-dd",
    "KVK_INVALID": "KvK number is not 8 digits",
    "VAT_INVALID": "BTW/VAT number fails its check",
    "IBAN_INVALID": "IBAN fails its check digits",
    "LEGAL_FORM_DERIVED": "legal form taken from the company name",
    "PARTY_TYPE_DERIVED": "record classified as person or organisation from its fields",
}
for _code, _text in _NORMALIZE.items():
    register(_code, _text, stage="normalize")

_IMPORT = {
    "NO_USABLE_FIELDS": "import: the row has no name, company, e-mail, phone or address (quarantined)",
    "ROW_TOO_MANY_FIELDS": "import: the row has more fields than the header (a stray delimiter; quarantined)",
    "ROW_UNBALANCED_QUOTE": "import: the row opens a quote that swallows the following rows (quarantined)",
    "VCARD_UNPARSEABLE": "import: a vCard in the file cannot be read (quarantined; the other cards are read)",
    "RECORD_UNPARSEABLE": "import: one record of the file cannot be read (quarantined; the other records are read)",
    "MSG_DISTLIST_UNREADABLE": "import: an Outlook contact group whose members cannot be read (quarantined)",
    "TABLE_NOT_RECOGNISED": "import: a sheet/table beside the customer sheets has no customer columns "
    "(its rows are quarantined)",
    "MAIL_OWN_ADDRESS": "import: a mailbox owner's or the own organisation's address, no customer (quarantined)",
    "MAIL_SKIPPED_SENDER": "import: a no-reply, bounce or bulk sender in a mailbox (quarantined)",
    "MAIL_FILE_UNREADABLE": "import: a file in a folder of mail that is no readable message (quarantined; "
    "the other messages are read)",
}
for _code, _text in _IMPORT.items():
    register(_code, _text, stage="import")

#: A record held back by the quality gates (pipeline gate policy ``hold_failing``): in the quarantine with
#: the expectation it failed, never in the golden store or the CRM.
GATE_HELD = register("GATE_HELD", "gates: the record failed a critical quality-gate expectation and is held in "
                     "the quarantine (not written to the golden store or the CRM)", stage="gates")
register("SUBJECT_ERASED", "privacy: the record belongs to a person erased on request (AVG art. 17); held back "
         "until a steward lifts the erasure (cdq subject lift)", stage="privacy")
