"""Outlook ``.msg`` files (via ``extract_msg``): mail gives correspondents, contact items give a contact row.

A contact group (``IPM.DistList``) stores its members as binary entry ids that ``extract_msg`` does not
decode: members typed in as name and address (one-off entry ids) are read from them; a group with only
references to other contact items goes to the quarantine with ``MSG_DISTLIST_UNREADABLE`` so the user
knows to export the members instead. ANSI (non-Unicode) files are re-opened with the code page the file names, because
``extract_msg`` otherwise guesses a Western one and garbles Japanese or Greek text.
"""

from __future__ import annotations

import codecs
import logging
from datetime import datetime, timezone
from pathlib import Path

from cdq.errors import InputError
from cdq.importers._contact import Value, pick_emails, pick_phones, quarantine_row
from cdq.importers._harvest import Harvest, add_address, parse_addresses

logger = logging.getLogger(__name__)

#: PR_INTERNET_CPID values whose Python codec name is not simply ``cp<N>``.
_CPID = {50220: "cp932", 50221: "cp932", 50222: "cp932", 51932: "euc_jp", 20932: "euc_jp", 936: "gbk",
         28591: "latin-1", 28592: "iso8859_2", 28605: "iso8859_15", 65001: "utf-8", 20127: "ascii"}
_PHONES = [("businessTelephoneNumber", "work"), ("business2TelephoneNumber", "work"),
           ("homeTelephoneNumber", "home"), ("homeTelephone2Number", "home"), ("primaryTelephoneNumber", "pref"),
           ("mobileTelephoneNumber", "cell"), ("carTelephoneNumber", "car"), ("otherTelephoneNumber", "other"),
           ("companyMainTelephoneNumber", "company"), ("assistantTelephoneNumber", "assistant"),
           ("callbackTelephoneNumber", "callback"), ("pagerTelephoneNumber", "pager"), ("isdnNumber", "isdn"),
           ("radioTelephoneNumber", "radio"), ("businessFaxNumber", "work/fax"), ("homeFaxNumber", "home/fax"),
           ("primaryFaxNumber", "fax")]
_ADDRESS_KINDS = ("workAddress", "homeAddress", "otherAddress")


def read_msg(path: Path, harvest: Harvest) -> None:
    """Add one .msg file's correspondents (mail) or contact row (contact item) to ``harvest``."""
    msg = _open(path)
    try:
        kind = (msg.classType or "").lower()
        members = one_off_members(path) if kind.startswith("ipm.distlist") else []
        if members:
            harvest.extra_records.extend(members)
        elif kind.startswith("ipm.distlist"):
            harvest.quarantine.append(quarantine_row(
                str(path), 0, "MSG_DISTLIST_UNREADABLE",
                "Outlook contact group: its members are stored as entry ids cdq cannot read; "
                "export the group's members as vCard or CSV", _get(msg, "displayName")))
        elif kind.startswith("ipm.contact"):
            harvest.extra_records.append(contact_record(msg))
        else:
            _mail(msg, harvest)
    finally:
        msg.close()


#: MAPI's provider UID of a one-off entry id: a contact group member typed in as name and address.
_ONE_OFF_UID = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")


def one_off_members(path: Path) -> list[dict]:
    """Members of an Outlook contact group that were typed in (one-off entry ids): name and address.

    Members that point at other contact items hold only a reference and cannot be read from the file.
    """
    import olefile

    members: dict[str, dict] = {}
    try:
        with olefile.OleFileIO(str(path)) as ole:
            for stream in ole.listdir():
                if not stream[-1].startswith("__substg1.0_"):
                    continue
                data = ole.openstream(stream).read()
                at = data.find(_ONE_OFF_UID)
                while at >= 0:
                    member = _one_off(data, at + len(_ONE_OFF_UID))
                    if member and member["email"].lower() not in members:
                        members[member["email"].lower()] = member
                    at = data.find(_ONE_OFF_UID, at + 1)
    except (OSError, ValueError) as e:
        logger.debug("%s: contact group members unreadable (%s)", path, type(e).__name__)
        return []
    return list(members.values())


def _one_off(data: bytes, at: int) -> dict | None:
    """``{full_name, email}`` from a one-off entry id's body (version, flags, name, type, address)."""
    if at + 4 > len(data):
        return None
    flags = int.from_bytes(data[at + 2:at + 4], "little")
    unicode = bool(flags & 0x8000)
    fields, i = [], at + 4
    for _ in range(3):
        if unicode:
            end = i
            while end + 1 < len(data) and data[end:end + 2] != b"\x00\x00":
                end += 2
            fields.append(data[i:end].decode("utf-16-le", "replace"))
            i = end + 2
        else:
            end = data.find(b"\x00", i)
            end = len(data) if end < 0 else end
            fields.append(data[i:end].decode("cp1252", "replace"))
            i = end + 1
    name, kind, email = fields
    if "@" not in email:
        return None
    name = name.replace(f"({email})", "").strip()
    return {"full_name": name if name and name.lower() != email.lower() else None, "email": email,
            "mail_roles": "contact group member"}


def _open(path: Path):
    import extract_msg

    try:
        msg = extract_msg.openMsg(str(path), strict=False)
        if not getattr(msg, "areStringsUnicode", True):
            encoding = _ansi_encoding(msg)
            if encoding:
                msg.close()
                msg = extract_msg.openMsg(str(path), strict=False, overrideEncoding=encoding)
        return msg
    except Exception as e:  # noqa: BLE001 - extract_msg raises many kinds on damaged files
        raise InputError(path, f"not a readable Outlook .msg file ({type(e).__name__})",
                         hint="save the item again from Outlook, or export it as .eml or .vcf") from e


def _ansi_encoding(msg) -> str | None:
    """Python codec for the code page a non-Unicode .msg was written in (PR_INTERNET_CPID)."""
    prop = msg.props.get("3FDE0003") or msg.props.get("3FFD0003")
    cpid = getattr(prop, "value", None)
    if not isinstance(cpid, int):
        return None
    name = _CPID.get(cpid, f"cp{cpid}")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def _get(msg, attribute: str):
    """An extract_msg attribute, None when missing or unreadable (damaged properties raise)."""
    try:
        value = getattr(msg, attribute, None)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(value, str):
        value = value.strip("\x00").strip()
    return value or None


def _when(msg) -> datetime | None:
    value = _get(msg, "date")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def _mail(msg, harvest: Harvest) -> None:
    harvest.messages += 1
    when = _when(msg)
    for name, email in parse_addresses(_get(msg, "sender") or ""):
        add_address(harvest, name, email, "from", when)
    roles = {1: "to", 2: "cc", 3: "bcc"}
    for recipient in _get(msg, "recipients") or []:
        email, name = _get(recipient, "email"), _get(recipient, "name")
        role = roles.get(int(getattr(recipient, "type", 1) or 1), "to")
        if email and "@" in email:
            add_address(harvest, name, email, role, when)
        elif name:
            for parsed_name, parsed_email in parse_addresses(name):
                add_address(harvest, parsed_name, parsed_email, role, when)


def contact_record(msg) -> dict:
    """One contact row from an Outlook contact item (name parts, company, e-mails, phones, addresses)."""
    emails = [Value(e, ()) for e in (_get(msg, f"email{i}EmailAddress") for i in (1, 2, 3)) if e]
    phones = [Value(v, tuple(t.split("/")), 1 if t == "pref" else None)
              for v, t in ((_get(msg, a), t) for a, t in _PHONES) if v]
    birthday = _get(msg, "birthday")
    when = _when(msg)
    return {
        "full_name": _get(msg, "displayName"), "title": _get(msg, "displayNamePrefix"),
        "first_name": _get(msg, "givenName"), "middle_name": _get(msg, "middleName"),
        "last_name": _get(msg, "surname"), "name_suffix": _get(msg, "generation"),
        "company_name": _get(msg, "companyName"), "department": _get(msg, "departmentName"),
        "job_title": _get(msg, "jobTitle"), "nickname": _get(msg, "nickname"),
        "birth_date": birthday.date().isoformat() if isinstance(birthday, datetime) else None,
        "source_updated_at": when.isoformat() if when else None,
        **pick_emails(emails), **pick_phones(phones), **_addresses(msg),
    }


def _addresses(msg) -> dict:
    """The first filled address (work, home, other) in the address columns, the rest kept as text."""
    found = []
    for kind in _ADDRESS_KINDS:
        parts = {k: _get(msg, kind + k) for k in ("Street", "PostalCode", "Locality", "Country", "PostOfficeBox")}
        if any(parts.values()):
            found.append((kind, parts))
    if not found:
        return {}
    _, first = found[0]
    others = " | ".join(f"{k.removesuffix('Address')}: " + ", ".join(v for v in p.values() if v)
                        for k, p in found[1:])
    street = first["Street"]
    return {"street": " ".join(street.split()) if street else None, "postcode": first["PostalCode"],
            "city": first["Locality"], "country": first["Country"], "po_box": first["PostOfficeBox"],
            "other_addresses": others or None}
