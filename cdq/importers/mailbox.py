"""Mailbox import: harvest correspondents (display name + address) from mail into contact rows.

Reads ``.mbox`` files (mboxo/mboxrd, CRLF, a BOM, Netscape Content-Length), single ``.eml`` messages,
Outlook ``.msg`` files (see :mod:`cdq.importers._outlook_msg`, which also reads Outlook contact items)
and folders of ``.eml``/``.msg`` files. Addresses come from From, To, Cc and Reply-To; RFC 2047 encoded
words are decoded after the address list is split, so an encoded comma stays inside its name.
No-reply, bounce and bulk senders (``List-Unsubscribe``, ``Precedence: bulk``) are skipped. One row per
distinct address (case-insensitive) with the most recent ``Date`` seen as ``source_updated_at``.

The mailbox's own organisation is no customer: the owner(s) -- addresses taking part in at least 40% of
the messages (and in 3 or more) -- and every address at the organisation's domain are skipped and counted
as ``own_addresses_skipped``. The organisation's domain is an owner's domain, or a domain that both sends
and receives in 40% of the messages; public mail providers (gmail.com, ziggo.nl...) and reserved test
domains (example.com, *.invalid) never are one. When every address qualifies as an owner (a mailbox of
one conversation) nobody can be told apart and nothing is skipped.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from cdq.errors import InputError
from cdq.importers._contact import contact_table
from cdq.importers._harvest import Correspondent, Harvest, add_address, parse_addresses
from cdq.importers.base import RawTable

logger = logging.getLogger(__name__)

_ADDRESS_HEADERS = ("from", "sender", "reply-to", "to", "cc")
#: An mbox separator: ``From sender date``, ``From - date`` or ``From -``; not ``From Russia with love``.
_FROM_LINE = re.compile(rb"^From (-|\S*@\S*|\S+ .*\d\d:\d\d)")
_ADDRESS_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
#: Public mail providers: sharing one with the mailbox owner does not make someone a colleague.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.nl", "outlook.com", "outlook.nl", "live.com",
    "live.nl", "msn.com", "ziggo.nl", "kpnmail.nl", "kpnplanet.nl", "planet.nl", "home.nl", "xs4all.nl",
    "casema.nl", "upcmail.nl", "chello.nl", "hetnet.nl", "zeelandnet.nl", "telfort.nl", "tele2.nl",
    "online.nl", "quicknet.nl", "caiway.nl", "solcon.nl", "icloud.com", "me.com", "mac.com", "yahoo.com",
    "yahoo.nl", "aol.com", "gmx.net", "gmx.de", "protonmail.com", "proton.me", "skynet.be", "telenet.be",
    "proximus.be", "scarlet.be", "web.de",
})
_RESERVED_DOMAIN = re.compile(r"(?i)(^|\.)(example\.(com|org|net)|invalid|test|example|localhost|local)$")
OWNER_SHARE = 0.4
OWNER_MIN_MESSAGES = 3
OWNER_OF_TOP = 0.8


def read_mailbox(path: str | Path, **_) -> list[RawTable]:
    """Read an mbox, .eml, .msg or a folder of .eml/.msg files into one table of correspondents.

    Args:
        path: the mailbox file or folder.

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.eml"
        >>> _ = f.write_bytes(b"From: =?UTF-8?Q?H=C3=B6rst=2C_Kenny?= <K@x.nl>\\nTo: noreply@x.nl\\n\\nhi\\n")
        >>> t = read_mailbox(f)[0]
        >>> t.frame[["full_name", "email"]].values.tolist(), t.notes["senders_skipped"]
        ([['Hörst, Kenny', 'K@x.nl']], 1)
    """
    p = Path(path)
    harvest = Harvest()
    if p.is_dir():
        _read_folder(p, harvest)
    elif p.suffix.lower() == ".msg":
        _read_msg(p, harvest)
    elif p.suffix.lower() == ".eml":
        _read_eml(p, _read_bytes(p), harvest)
    else:
        _read_mbox(p, _read_bytes(p), harvest)
    return [_table(p, harvest)]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror})") from e


def _read_folder(folder: Path, harvest: Harvest) -> None:
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".eml", ".msg") and f.is_file())
    if not files:
        raise InputError(folder, "the folder holds no .eml or .msg files")
    for f in files:
        try:
            if f.suffix.lower() == ".msg":
                _read_msg(f, harvest)
            else:
                _read_eml(f, _read_bytes(f), harvest)
        except InputError as error:
            if len(files) == 1:
                raise
            # one stray file in a folder of messages: quarantine it with the reason, read the rest
            harvest.quarantine.append({"source": None, "source_file": str(f), "source_row": 0, "column": None,
                                       "reason_code": "MAIL_FILE_UNREADABLE", "detail": error.problem, "raw": f.name})


def _read_msg(path: Path, harvest: Harvest) -> None:
    from cdq.importers._outlook_msg import read_msg

    read_msg(path, harvest)


def _read_eml(path: Path, data: bytes, harvest: Harvest) -> None:
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not _looks_like_mail(data):
        raise InputError(path, "not an e-mail message (no From/To/Date header at the top)",
                         hint="export the message as .eml (RFC 822) or pass an .mbox file")
    harvest_message(data, harvest)


def _looks_like_mail(data: bytes) -> bool:
    head = data.lstrip(b"\r\n")[:16384].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = [line for line in head.splitlines() if line and line[:1] not in (b" ", b"\t")]
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    headers = [line.split(b":", 1)[0].strip().lower() for line in lines if _HEADER_LINE.match(line)]
    return bool(lines) and len(headers) >= len(lines) / 2 and bool(
        {b"from", b"to", b"date", b"cc", b"received", b"message-id"} & set(headers))


def split_mbox(data: bytes) -> list[bytes]:
    """Messages of an mbox: a ``From `` separator line starts a message when the line after it is a header.

    No blank line is required before it (Netscape relied on Content-Length, Roundcube writes none);
    checking the separator's shape and the next line keeps ``From Russia with love`` in its body.

    Examples:
        >>> box = b"From a@b Mon Jan 1 00:00:00 2001\\nFrom: a@b\\n\\nFrom here on\\nhi\\n"
        >>> len(split_mbox(box))
        1
    """
    lines = data.removeprefix(b"\xef\xbb\xbf").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines)
              if _FROM_LINE.match(line) and i + 1 < len(lines) and _HEADER_LINE.match(lines[i + 1])]
    return [b"".join(lines[a + 1:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]


def _read_mbox(path: Path, data: bytes, harvest: Harvest) -> None:
    messages = split_mbox(data)
    if not messages:
        if _looks_like_mail(data):
            harvest_message(data, harvest)
            return
        raise InputError(path, "not an mbox mailbox (no 'From ' separator line followed by mail headers)",
                         hint="export the folder as mbox, or pass single messages as .eml")
    for raw in messages:
        harvest_message(raw, harvest)


def harvest_message(data: bytes, harvest: Harvest) -> None:
    """Add the correspondents of one raw RFC 822 message (headers only are parsed)."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(data)
    if "multipart/digest" in str(msg.get("content-type", "")).lower():
        _harvest_digest(data, harvest)
    harvest.messages += 1
    when = _date(msg.get("date"))
    bulk = bool(msg.get("list-unsubscribe")) or str(msg.get("precedence", "")).strip().lower() in (
        "bulk", "list", "junk")
    raw_items = [(k.lower(), v) for k, v in msg.raw_items()]  # raw values: 8-bit UTF-8 survives as bytes
    for header in _ADDRESS_HEADERS:
        for value in (v for k, v in raw_items if k == header):
            for name, email in parse_addresses(_header_text(value)):
                add_address(harvest, name, email, header, when, skip=bulk and header in ("from", "sender", "reply-to"))


def _harvest_digest(data: bytes, harvest: Harvest) -> None:
    """A MIME digest (Mailman): the posts inside are messages of their own, with their own senders."""
    from email.parser import BytesParser

    digest = BytesParser(policy=compat32).parsebytes(data)
    for part in digest.walk():
        if part.get_content_type() == "message/rfc822" or (
                part.get_content_maintype() == "text" and part.get("from") and part is not digest):
            inner = part.get_payload(0) if part.is_multipart() else part
            if inner is not part and hasattr(inner, "as_bytes"):
                harvest_message(inner.as_bytes(), harvest)
            elif part.get("from"):
                harvest_message(part.as_bytes(), harvest)


def _header_text(value) -> str:
    """A header value as text; raw 8-bit bytes (no encoded words) are read as UTF-8, else windows-1252."""
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("ascii", "surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", "replace")
    return text


def _date(value) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _display_name(name: str | None, email: str) -> str | None:
    """A display name that is only an address (``"bogus@acme.com" <...>``) is no person's name."""
    if not name or _ADDRESS_LIKE.fullmatch(name.strip("'\" ")) or name.strip("'\" ").lower() == email.lower():
        return None
    return name.strip("'\" ") or None


def own_addresses(harvest: Harvest) -> set[str]:
    """Lower-cased addresses of the mailbox owner(s) and their organisation (see the module docstring).

    Examples:
        >>> h = Harvest()
        >>> for client in ("a@ziggo.nl", "b@gmail.com", "c@casema.nl"):
        ...     h.messages += 1
        ...     h.add(None, client, "from", None); h.add(None, "me@bureau.nl", "to", None)
        >>> h.add(None, "collega@bureau.nl", "cc", None)
        >>> sorted(own_addresses(h))
        ['collega@bureau.nl', 'me@bureau.nl']
    """
    total = harvest.messages
    if total < OWNER_MIN_MESSAGES:
        return set()
    top = max((len(p.in_messages) for p in harvest.people.values()), default=0)
    # the owner takes part in (nearly) every message; someone who wrote 3 of 5 is a frequent correspondent
    need = max(OWNER_MIN_MESSAGES, OWNER_SHARE * total, OWNER_OF_TOP * top)
    owners = {key for key, p in harvest.people.items() if len(p.in_messages) >= need}
    if owners and owners == set(harvest.people):
        return set()  # everyone qualifies: no owner can be told apart
    by_domain: dict[str, list[Correspondent]] = {}
    for key, person in harvest.people.items():
        by_domain.setdefault(key.rsplit("@", 1)[1], []).append(person)
    domains = {key.rsplit("@", 1)[1] for key in owners}
    for domain, people in by_domain.items():
        roles = set().union(*(p.roles for p in people))
        messages = set().union(*(p.in_messages for p in people))
        if len(messages) >= need and roles & {"from", "sender"} and roles & {"to", "cc"}:
            domains.add(domain)
    domains = {d for d in domains if d not in PUBLIC_MAIL_DOMAINS and not _RESERVED_DOMAIN.search(d)}
    own = owners | {key for d in domains for key in (p.email.lower() for p in by_domain[d])}
    if own == set(harvest.people):
        return set()
    return own


def _table(path: Path, harvest: Harvest) -> RawTable:
    records = list(harvest.extra_records)
    own = own_addresses(harvest)
    for key in own:
        del harvest.people[key]
    for person in harvest.people.values():
        records.append({
            "full_name": _display_name(person.name, person.email), "email": person.email,
            "display_name": person.name,
            "source_updated_at": person.latest.isoformat() if person.latest else None,
            "mail_roles": ",".join(sorted(person.roles)),
        })
    for key in sorted(own):
        harvest.quarantine.append({"source": None, "source_file": str(path), "source_row": 0, "column": "email",
                                   "reason_code": "MAIL_OWN_ADDRESS", "raw": key,
                                   "detail": "the mailbox owner's or the own organisation's address, no customer"})
    for key in sorted(harvest.skipped):
        harvest.quarantine.append({"source": None, "source_file": str(path), "source_row": 0, "column": "email",
                                   "reason_code": "MAIL_SKIPPED_SENDER", "raw": key,
                                   "detail": "a no-reply, bounce or bulk sender, no customer"})
    rows = list(range(1, len(records) + 1))
    notes = {"messages": harvest.messages, "correspondents": len(harvest.people),
             "senders_skipped": len(harvest.skipped), "own_addresses_skipped": len(own)}
    logger.info("%s: %d messages, %d correspondents, %d skipped, %d own addresses skipped", path,
                harvest.messages, len(harvest.people), len(harvest.skipped), len(own))
    for i, q in enumerate(harvest.quarantine, start=len(records) + 1):
        q["source_row"] = i  # quarantined items are numbered after the correspondents
    return contact_table(records, rows, str(path), quarantine=harvest.quarantine,
                         rows_in=len(records) + len(harvest.quarantine), notes=notes)
