"""Correspondents harvested from mail headers: the address bookkeeping shared by the mailbox reader
(:mod:`cdq.importers.mailbox`) and the Outlook ``.msg`` reader (:mod:`cdq.importers._outlook_msg`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header

_SKIP_LOCAL = re.compile(
    r"(?i)(^|[-+_.])(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|"
    r"notifications?|notify|automailer|listserv|majordomo)([-+_.=]|$)"
)
_EMAIL = re.compile(r"[^\s<>(),;:\"]+@[^\s<>(),;:\"]+")


@dataclass
class Correspondent:
    """One distinct address seen in a mailbox, with what we learnt about it."""

    email: str
    name: str | None = None
    roles: set[str] = field(default_factory=set)
    latest: datetime | None = None
    in_messages: set[int] = field(default_factory=set)


@dataclass
class Harvest:
    """Correspondents in first-seen order plus the counts the import reports."""

    people: dict[str, Correspondent] = field(default_factory=dict)
    messages: int = 0
    skipped: set[str] = field(default_factory=set)
    extra_records: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    def add(self, name: str | None, email: str, role: str, when: datetime | None) -> None:
        key = email.lower()
        person = self.people.setdefault(key, Correspondent(email))
        person.roles.add(role)
        person.in_messages.add(self.messages)
        if name and (person.name is None or (when and (person.latest is None or when >= person.latest))):
            person.name = name
        if when and (person.latest is None or when > person.latest):
            person.latest = when


def add_address(harvest: Harvest, name: str | None, email: str, role: str, when: datetime | None,
                *, skip: bool = False) -> None:
    """Record one address, or count it as skipped when it is a no-reply/bulk sender."""
    if "@" not in email:
        return
    if skip or _SKIP_LOCAL.search(email.split("@", 1)[0]):
        harvest.skipped.add(email.lower())
        return
    harvest.add(name, email, role, when)


def parse_addresses(text: str) -> list[tuple[str | None, str]]:
    """``(display name, address)`` pairs of an address header; names decoded, '@' in names allowed.

    Examples:
        >>> parse_addresses('Mikel@Lindsaar <mikel@x.net>, "Doe, J." <j@x.nl>, k@x.nl (Kees)')
        [('Mikel@Lindsaar', 'mikel@x.net'), ('Doe, J.', 'j@x.nl'), ('Kees', 'k@x.nl')]
        >>> parse_addresses("=?iso-8859-1?Q?Heinz_M=FCller?= <h@x.de>, undisclosed-recipients:;")
        [('Heinz Müller', 'h@x.de')]
    """
    text = " ".join(text.split())
    pairs = []
    for part in _split_list(text):
        if "<" not in part and "=?" in part:
            decoded = _decode_words(part)
            if re.search(r"<[^<>]*@[^<>]*>", decoded):  # name and address in one encoded word (Palm webOS)
                part = decoded
        m = re.search(r"<([^<>]*)>", part)
        if m:
            name, email = part[: m.start()], m.group(1)
        else:
            found = _EMAIL.search(part)
            if not found:
                continue
            email = found.group(0)
            comment = re.search(r"\(([^()]*)\)", part)
            name = comment.group(1) if comment else ""
        name = re.sub(r"^[^\"<@]*:\s*", "", name) if ":" in name and "@" not in name.split(":")[0] else name
        email = email.strip().strip("'\"").removeprefix("mailto:")
        if "@" in email:
            pairs.append((_clean_display(_decode_words(name.strip().strip('"').strip("'").strip())) or None, email))
    return pairs


def _clean_display(name: str) -> str:
    """A display name without comments: "Jean Dupont (Luxembourg)" -> "Jean Dupont"; "Doe, John -- John Doe"
    -> "John Doe" (the plain form of a name written twice).

    Examples:
        >>> _clean_display("Jean Dupont (Luxembourg)"), _clean_display("Doe, John -- John Doe")
        ('Jean Dupont', 'John Doe')
    """
    if " -- " in name:
        first, _, second = name.partition(" -- ")
        name = second if second.strip() and "," in first else first
    outside = re.sub(r"\([^()]*\)", " ", name)
    if outside.strip(" ,"):
        name = outside
    return " ".join(name.split()).strip(" ,")


def _split_list(text: str) -> list[str]:
    """Split an address list on commas/semicolons outside quotes, angle brackets and comments."""
    parts: list[str] = []
    current: list[str] = []
    quoted, depth = False, 0
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "<(":
            depth += 1
        elif not quoted and ch in ">)":
            depth = max(depth - 1, 0)
        elif not quoted and not depth and ch in ",;":
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; an unknown charset falls back to windows-1252."""
    if "=?" not in text:
        return text
    try:
        chunks = decode_header(text)
    except Exception:  # noqa: BLE001 - malformed encoded words stay as typed
        return text
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        try:
            out.append(chunk.decode(charset or "ascii"))
        except (LookupError, UnicodeDecodeError):
            out.append(chunk.decode("cp1252", "replace"))
    return " ".join("".join(out).split())
