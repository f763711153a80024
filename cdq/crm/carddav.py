"""CardDAV (RFC 6352): golden records as vCards (RFC 6350) in an address book on any CardDAV server.

For the many small organisations whose "CRM" is a shared address book (Nextcloud, Radicale, SOGo, iCloud,
Fastmail; phones and Outlook sync it). ``carddav+https://HOST/PATH/TO/ADDRESSBOOK/`` names the collection.
Each golden record is one resource ``<golden id>.vcf`` whose UID is the golden id, so a create is an
idempotent ``PUT`` with ``If-None-Match: *`` (412: it exists, made by a load killed before it could record
it) and the cross-reference is the resource name. Updates are ``PUT``; reads ``GET``; CardDAV has no merge, so
a retired record's card is deleted and the survivor's card written again. ``CDQ_CRM_TOKEN`` (``user:password``)
is sent as HTTP Basic auth when set; 5xx and 429 are retried by :class:`cdq.crm.http.HttpClient`; a card the
server refuses (4xx) is a rejection kept for the next load. Tested against a real CardDAV server (Radicale)
on a loopback port.

Examples:
    >>> card = to_vcard("G1", "person", {"N.family": "de Vries", "N.given": "Jan", "EMAIL": "jan@x.nl",
    ...                                  "ADR.street": "Kerkstraat 1", "ADR.locality": "Delft"})
    >>> print(card.replace("\\r\\n", "|"))
    BEGIN:VCARD|VERSION:4.0|UID:G1|KIND:individual|FN:Jan de Vries|N:de Vries;Jan;;;|EMAIL:jan@x.nl|ADR:;;Kerkstraat 1;Delft;;;|END:VCARD|
    >>> parse_vcard(card)["N.family"], parse_vcard("BEGIN:VCARD\\r\\nORG:A\\\\, B\\r\\nEND:VCARD")["ORG"]
    ('de Vries', 'A, B')
"""

from __future__ import annotations

import base64
import os
import re

from cdq.crm.bottlecrm import address_line
from cdq.crm.http import CrmHttpError, HttpClient
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import Rejected, RemoteCrmTarget
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

MAPPING = load_mapping(resource("rules", "crm", "carddav.yaml"))
#: The parts of the structured properties, in RFC 6350 order.
PARTS = {"N": ("family", "given", "additional", "prefix", "suffix"),
         "ADR": ("pobox", "ext", "street", "locality", "region", "code", "country")}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split(value: str) -> list[str]:
    """A structured value's parts (split on unescaped ``;``), unescaped."""
    return [_unescape(p) for p in re.split(r"(?<!\\);", value)]


def to_vcard(uid: str, party_type: str, values: dict[str, str | None]) -> str:
    """One vCard 4.0 (CRLF lines) from the mapped values (keys as in ``rules/crm/carddav.yaml``)."""
    v = {k: val for k, val in values.items() if val}
    person = party_type == "person"
    name = " ".join(filter(None, [v.get("N.given"), v.get("N.family")])) if person else ""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:{_escape(uid)}", f"KIND:{'individual' if person else 'org'}",
             f"FN:{_escape(name or v.get('ORG') or uid)}"]
    for prop, parts in PARTS.items():
        if prop == "N" and person or any(f"{prop}.{p}" in v for p in parts):
            lines.append(f"{prop}:" + ";".join(_escape(v.get(f"{prop}.{p}", "")) for p in parts))
    for key in sorted(k for k in v if k.split(".")[0] not in PARTS):
        prop, _, kind = key.partition(".")
        lines.append(f"{prop}{f';TYPE={kind}' if kind else ''}:{_escape(v[key])}")
    return "\r\n".join([*lines[:5], *sorted(lines[5:], key=_order), "END:VCARD"]) + "\r\n"


def _order(line: str) -> int:
    order = ["N", "ORG", "EMAIL", "TEL", "ADR", "BDAY"]
    name = re.split(r"[;:]", line, maxsplit=1)[0]
    return order.index(name) if name in order else len(order)


def parse_vcard(text: str) -> dict[str, str]:
    """A vCard's properties under the mapping's keys (``N.family``, ``TEL.cell``, ``EMAIL``, ...)."""
    out: dict[str, str] = {}
    for line in re.sub(r"\r?\n[ \t]", "", text).splitlines():
        head, sep, value = line.partition(":")
        if not sep:
            continue
        prop, *params = head.split(";")
        prop = prop.split(".")[-1].upper()  # an itemN. group prefix is not part of the name
        if prop in PARTS:
            out.update({f"{prop}.{p}": x for p, x in zip(PARTS[prop], _split(value)) if x})
            continue
        kinds = [t.lower() for p in params if p.upper().startswith("TYPE=") for t in p[5:].split(",")]
        key = f"{prop}.{kinds[0]}" if prop == "TEL" and kinds else prop
        out.setdefault(key, _unescape(value))
    return out


class CardDavTarget(RemoteCrmTarget):
    """An address book collection at ``base_url``; ``CDQ_CRM_TOKEN`` = ``user:password`` (optional)."""

    kind = "carddav"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5):
        super().__init__(f"carddav:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        headers = {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()} if token else {}
        self.http = HttpClient(base_url.rstrip("/") + "/", headers, concurrency=concurrency,
                               backoff_base=backoff_base)

    def _map(self, fn, items: list) -> list:
        return self.http.map(fn, items)

    def _check(self, status: int, what: str) -> None:
        if status in (401, 403):
            raise CrmHttpError(f"the CardDAV server refused access (HTTP {status}) to {what}; export "
                               "CDQ_CRM_TOKEN=user:password for an account that may write the address book", status)
        if status >= 500 or status == 429:
            raise CrmHttpError(f"CardDAV {what} failed: HTTP {status}", status)

    def _card(self, href: str) -> dict | None:
        r = self.http.get("/" + href, extra_headers={"Accept": "text/vcard"})
        if r.status == 404:
            return None
        self._check(r.status, "GET")
        return parse_vcard(r.body if isinstance(r.body, str) else "")

    # -- values -------------------------------------------------------------------------------------
    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = super().values(entity, row)
        if "ADR.street" in out:
            out["ADR.street"] = address_line(row)
        if entity.party_type == "person" and "N.family" in out:
            out["N.family"] = surname_as_used(row)
        if out.get("BDAY"):
            out["BDAY"] = str(out["BDAY"])[:10].replace("-", "")  # vCard 4.0 date: YYYYMMDD
        return out

    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        return {k: record.get(k) or None for k in entity.columns}

    # -- primitives ---------------------------------------------------------------------------------
    def fetch(self, entity: Entity, crm_ids: list[str]) -> dict[str, dict]:
        cards = self._map(self._card, crm_ids)
        return {href: card for href, card in zip(crm_ids, cards) if card is not None}

    def find(self, entity: Entity, golden: dict) -> str | None:
        href = f"{golden.get('golden_id')}.vcf"
        return href if golden.get("golden_id") and self._card(href) is not None else None

    def _put(self, entity: Entity, key: str, values: dict, create: bool) -> str:
        href = f"{key}.vcf"
        r = self.http.request("PUT", "/" + href, data=to_vcard(key, entity.party_type, values).encode(),
                              content_type="text/vcard; charset=utf-8",
                              extra_headers={"If-None-Match": "*"} if create else None)
        if create and r.status == 412:  # made by a load killed before it recorded it: write it again
            return self._put(entity, key, values, create=False)
        self._check(r.status, "PUT")
        if r.status >= 400:
            raise Rejected(f"HTTP {r.status}: {str(r.body or '')[:200]}")
        return href

    def send_create(self, entity: Entity, key: str, values: dict) -> str:
        return self._put(entity, key, values, create=True)

    def send_update(self, entity: Entity, crm_id: str, key: str, values: dict) -> None:
        self._put(entity, key, values, create=False)

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        r = self.http.request("DELETE", "/" + crm_id)
        self._check(r.status, "DELETE")
        if r.status >= 400 and r.status != 404:  # 404: deleted already
            raise Rejected(f"HTTP {r.status}")

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        """No merge in CardDAV: the retired card is deleted; the survivor's card is written again after."""
        self.send_delete(entity, retired_id)
        return "delete"
