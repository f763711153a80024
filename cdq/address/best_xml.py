"""Read BeST-Address's XML full download (Belgium) into the rows the BeST CSV has: streamed, bounded memory.

FPS BOSA publishes BeST-Address at opendata.bosa.be as one zip per download whose members are per region
(``Brussels``, ``Flanders``, ``Wallonia``) and per object type (``…Address…``, ``…Streetname…``/``…StreetName…``,
``…Municipality…``, ``…PostalInfo…``/``…Postalinfo…``, ``…PartOfMunicipality…``), each an XML file or a zip
holding one (file names may carry the date: ``FlandersAddress20240101.zip``). Two generations of the layout exist,
both read here by the elements' local names (the namespace prefixes differ between them):

- current (``xmlns:tns="http://fsb.belgium.be/mappingservices/FullDownload/v1_00"``, ``xmlns:com=
  "http://fsb.belgium.be/data/common"``): roots ``tns:addressResponseBySource``, ``tns:streetNameResponseBySource``,
  ``tns:municipalityResponseBySource``, ``tns:postalInfoResponseBySource`` with ``tns:source`` (``flanders``…) and
  objects ``tns:address`` (``com:code``, ``com:position/…/com:pos``, ``com:addressStatus/com:status``,
  ``com:boxNumber``, ``com:houseNumber``, ``com:hasStreetName``, ``com:hasMunicipality``, ``com:hasPostalInfo``,
  each reference holding ``com:namespace``/``com:objectIdentifier``/``com:versionIdentifier``), ``tns:streetName``,
  ``tns:municipality``, ``tns:postalInfo`` (``com:code`` and ``com:name`` with ``com:language``/``com:spelling``);
  as the Flemish register writes it (Informatievlaanderen's BOSA integration, its serialisation tests);
- older (``add``/``com`` = ``http://vocab.belgif.be/ns/inspire/``): objects ``tns:Address`` (``addressCode``,
  ``addressPosition``, ``houseNumber``, ``boxNumber``, ``status``, ``hasStreetname/Streetname/objectIdentifier``,
  ``hasMunicipality/Municipality/…``, ``hasPostalInfo/PostalInfo/…``), ``tns:Streetname`` (``streetnameCode``,
  ``streetname``), ``tns:Municipality`` (``municipalityCode``, ``municipalityName``), ``tns:PostalInfo``
  (``postcode``, ``postname``), as FPS BOSA's own readers (github.com/Fedict/best-tools, ``xmlreader``) read it.

Streets, municipalities and postal infos (some 100k objects for the whole country) are read first into small
dictionaries keyed by region and identifier (identifiers repeat across regions); the newest ``versionIdentifier``
wins. Addresses (about 6.5M) are then streamed with lxml's iterparse, each element cleared once read, and handed
on in chunks of the 20 BeST CSV columns (:data:`cdq.address.belgium.HEADER`), so the XML and the CSV of the same
addresses load into the same rows and give the same answers. The postal info's identifier is the postcode.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from cdq.errors import InputError

logger = logging.getLogger(__name__)

#: Region in a file name or ``tns:source`` -> BeST CSV region code.
REGIONS = {"brussels": "BE-BRU", "flanders": "BE-VLG", "wallonia": "BE-WAL"}
#: Object element (local name, either generation) -> kind.
OBJECTS = {"address": "address", "Address": "address", "streetName": "street", "Streetname": "street",
           "municipality": "municipality", "Municipality": "municipality", "postalInfo": "postal",
           "PostalInfo": "postal"}
_CODE = {"code", "addressCode", "streetnameCode", "municipalityCode", "postcode"}
_NAME = {"name", "streetname", "municipalityName", "postname"}
_REFS = {"hasStreetName": "street", "hasStreetname": "street", "hasMunicipality": "municipality",
         "hasPostalInfo": "postal"}
_KIND_IN_NAME = (("partofmunicipality", None), ("streetname", "street"), ("municipality", "municipality"),
                 ("postalinfo", "postal"), ("address", "address"))
_XML_MARK = b"fsb.belgium.be/mappingservices"
CHUNK_ROWS = 50_000  # rows per chunk: ~1 KB each while a list of tuples, so ~50 MB


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def kind_of(name: str) -> str | None:
    """The object type a member holds, from its file name (``None``: no addresses in it, or unknown)."""
    base = Path(name).name.lower()
    return next((kind for word, kind in _KIND_IN_NAME if word in base), None)


def region_of(label: str) -> str | None:
    """The region a file belongs to, from its own name or else the zip it sits in (``outer.zip!inner.xml``)."""
    for part in reversed(label.split("!")):
        base = Path(part).name.lower()
        found = next((code for word, code in REGIONS.items() if word in base), None)
        if found:
            return found
    return None


def is_best_xml(head: bytes) -> bool:
    """Does the start of an XML file belong to a BeST-Address download?"""
    return _XML_MARK in head


def looks_like_best(names: list[str]) -> bool:
    """Are these zip members / folder entries the files of a BeST-Address XML download?"""
    return any(region_of(n) and kind_of(n) == "address" for n in names)


# -- walking the download ------------------------------------------------------------------------------------------
def _members(path: Path, scratch: Path, want: Callable[[str], bool]) -> Iterator[tuple[str, IO[bytes]]]:
    """Every XML file (in a folder, a zip, or zips inside a zip) whose name ``want`` accepts, as a binary stream."""
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.suffix.lower() in (".xml", ".zip") and (child.suffix.lower() == ".zip" or want(child.name)):
                yield from _members(child, scratch, want)
        return
    if path.suffix.lower() == ".xml":
        if want(path.name):
            with path.open("rb") as handle:
                yield str(path), handle
        return
    with zipfile.ZipFile(path) as archive:
        yield from _zip_members(archive, str(path), scratch, want)


def _zip_members(archive: zipfile.ZipFile, label: str, scratch: Path,
                 want: Callable[[str], bool]) -> Iterator[tuple[str, IO[bytes]]]:
    for member in archive.infolist():
        name = member.filename
        if member.is_dir() or Path(name).name.startswith("."):
            continue
        if name.lower().endswith(".xml") and want(name):
            with archive.open(member) as handle:
                yield f"{label}!{name}", handle
        elif name.lower().endswith(".zip") and (want(name) or kind_of(name) is None):
            # an inner zip needs seeking: a temporary copy, one at a time
            handle_fd, tmp = tempfile.mkstemp(suffix=".zip", dir=scratch)
            try:
                with os.fdopen(handle_fd, "wb") as out, archive.open(member) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                with zipfile.ZipFile(tmp) as inner:
                    yield from _zip_members(inner, f"{label}!{name}", scratch, _inner_want(want, name))
            finally:
                Path(tmp).unlink(missing_ok=True)


def _inner_want(want: Callable[[str], bool], outer: str) -> Callable[[str], bool]:
    """Inside an inner zip a member whose name says nothing of its kind is judged by the zip's name."""
    return lambda name: want(name) if kind_of(name) else want(outer)


# -- reading one object ----------------------------------------------------------------------------------------------
def _identifier(element: Any) -> tuple[str | None, str]:
    """(objectIdentifier, versionIdentifier) under a code or reference element (directly or one level down)."""
    ident, version = None, ""
    for part in element.iter():
        name = _local(part.tag)
        if name == "objectIdentifier" and ident is None:
            ident = (part.text or "").strip() or None
        elif name == "versionIdentifier" and not version:
            version = (part.text or "").strip()
    return ident, version


def _named(element: Any) -> tuple[str | None, str, dict[str, str]]:
    """(id, version, {language: spelling}) of a street, municipality or postal info."""
    ident, version = None, ""
    names: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name in _CODE:
            ident, version = _identifier(child)
        elif name in _NAME:
            language = spelling = ""
            for part in child:
                if _local(part.tag) == "language":
                    language = (part.text or "").strip().lower()
                elif _local(part.tag) == "spelling":
                    spelling = (part.text or "").strip()
            if spelling:
                names.setdefault(language, spelling)
    return ident, version, names


def _address(element: Any) -> dict[str, str]:
    """The fields of one address element (either generation)."""
    out: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name in ("code", "addressCode"):
            out["id"] = _identifier(child)[0] or ""
        elif name in _REFS:
            out[_REFS[name]] = _identifier(child)[0] or ""
        elif name in ("houseNumber", "boxNumber"):
            out[name] = (child.text or "").strip()
        elif name in ("status", "addressStatus"):
            status = child if name == "status" else next((p for p in child if _local(p.tag) == "status"), None)
            out["status"] = (status.text or "").strip() if status is not None else ""
        elif name in ("position", "addressPosition"):
            pos = next((p for p in child.iter() if _local(p.tag) == "pos"), None)
            out["pos"] = (pos.text or "").strip() if pos is not None else ""
    return out


def _objects(handle: IO[bytes], label: str) -> Iterator[tuple[str, Any]]:
    """(kind or "source", element) for each top-level object of one XML file; each is cleared after use."""
    from lxml import etree

    tags = [f"{{*}}{t}" for t in OBJECTS] + ["{*}source"]
    try:
        for _event, element in etree.iterparse(handle, events=("end",), tag=tags, huge_tree=True,
                                               remove_comments=True, remove_pis=True):
            parent = element.getparent()
            # references inside an address (older layout: hasStreetname/Streetname) are not objects
            if parent is None or parent.getparent() is not None:
                continue
            local = _local(element.tag)
            yield ("source" if local == "source" else OBJECTS[local]), element
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as e:
        raise InputError(label, f"not a readable BeST-Address XML file ({e})", hint="download it again") from e


# -- the two passes --------------------------------------------------------------------------------------------------
class _Lookups:
    """Street, municipality and postal names per (region, id); the newest version of each wins."""

    def __init__(self) -> None:
        self.names: dict[str, dict[tuple[str, str], tuple[str, dict[str, str]]]] = {
            "street": {}, "municipality": {}, "postal": {}}

    def add(self, kind: str, region: str, element: Any) -> None:
        ident, version, names = _named(element)
        if ident is None:
            return
        table = self.names[kind]
        key = (region, ident)
        if key not in table or version >= table[key][0]:
            table[key] = (version, names)

    def get(self, kind: str, region: str, ident: str) -> dict[str, str]:
        found = self.names[kind].get((region, ident))
        return found[1] if found else {}


def _region(name: str, source: str | None) -> str:
    return region_of(name) or REGIONS.get((source or "").strip().lower(), "BE")


def _read_lookups(path: Path, scratch: Path) -> _Lookups:
    lookups = _Lookups()
    for name, handle in _members(path, scratch, lambda n: kind_of(n) in ("street", "municipality", "postal")):
        source = None
        for kind, element in _objects(handle, name):
            if kind == "source":
                source = element.text
            elif kind != "address":
                lookups.add(kind, _region(name, source), element)
    counts = {k: len(v) for k, v in lookups.names.items()}
    logger.info("BeST-Address: %d streets, %d municipalities, %d postal infos", counts["street"],
                counts["municipality"], counts["postal"])
    return lookups


def _row(fields: dict[str, str], region: str, lookups: _Lookups) -> tuple:
    """One row in the BeST CSV columns (WGS84 coordinates are not computed: the store keeps none)."""
    street = lookups.get("street", region, fields.get("street", ""))
    municipality = lookups.get("municipality", region, fields.get("municipality", ""))
    postcode = fields.get("postal", "")
    postal = lookups.get("postal", region, postcode)
    x, _, y = fields.get("pos", "").partition(" ")
    return (x, y.split(" ")[0] if y else "", "", "", fields.get("id", ""), fields.get("boxNumber", ""),
            fields.get("houseNumber", ""), fields.get("municipality", ""), municipality.get("de", ""),
            municipality.get("fr", ""), municipality.get("nl", ""), postcode, postal.get("fr", ""),
            postal.get("nl", ""), fields.get("street", ""), street.get("de", ""), street.get("fr", ""),
            street.get("nl", ""), region, fields.get("status", ""))


def read_best_xml(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield chunks with the BeST CSV columns from a BeST-Address XML download (zip, zip of zips, folder, or
    one region's files unpacked); InputError if it holds no addresses or cannot be read."""
    from cdq.address.belgium import HEADER

    path = Path(path)
    scratch = Path(tempfile.mkdtemp(prefix="cdq-best-"))
    try:
        lookups = _read_lookups(path, scratch)
        rows: list[tuple] = []
        total = 0
        for name, handle in _members(path, scratch, lambda n: kind_of(n) == "address"):
            source = None
            for kind, element in _objects(handle, name):
                if kind == "source":
                    source = element.text
                elif kind == "address":
                    rows.append(_row(_address(element), _region(name, source), lookups))
                    if len(rows) >= chunk_rows:
                        total += len(rows)
                        yield pd.DataFrame(rows, columns=HEADER)
                        rows = []
        total += len(rows)
        if total == 0:
            raise InputError(path, "no BeST-Address addresses in this file (no …Address… XML with address "
                             "elements)", hint="load the whole download (the zip), not only its street or "
                             "municipality files")
        if rows:
            yield pd.DataFrame(rows, columns=HEADER)
    except zipfile.BadZipFile as e:
        raise InputError(path, f"not a readable zip file ({e})", hint="download it again") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")


def download_date(path: str | Path) -> str:
    """The date in the download's file names (``…20240101…``) as ``YYYY-MM-DD``, else ``""``."""
    match = _DATE.search(Path(path).name)
    return "-".join(match.groups()) if match else ""
