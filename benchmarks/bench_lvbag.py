"""Benchmark loading a national-size LV BAG 2.0 XML extract (synthetic, in Kadaster's zip-of-zips layout).

Run: ``nice .venv/bin/python benchmarks/bench_lvbag.py [--numbers 9800000] [--workdir DIR] [--keep]``

Writes ``lvbag-extract-nl.zip`` the way Kadaster delivers it: ``Leveringsdocument-BAG-Extract.xml`` plus inner
zips ``9999WPL…``, ``9999OPR…``, ``9999NUM…``, ``9999VBO…``, ``9999LIG…``, ``9999STA…``, ``GEM-WPL-RELATIE…``,
each holding XML files of 10,000 objects with the element names and nesting of the real extract (as in
NLExtract's test extract, ../shared/data/bag_real/lvbag_extract): numbers with letters and additions, 5% with an
ended earlier version, 0.13% houseboats and 0.54% caravan pitches (the national proportions: ~12.7k ligplaats
and ~53k standplaats among ~9.8M numbers), 2% of objects with a secondary address, 0.3% withdrawn numbers.
Then loads it with ``cdq reference load-bag`` in a child process and reports its wall time and peak memory
(VmHWM of the child: the load's own peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

DATE = "08112023"
DAY = "2023-11-08"
PER_FILE = 10_000
NS = ('xmlns:Objecten="www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601" '
      'xmlns:Historie="www.kadaster.nl/schemas/lvbag/imbag/historie/v20200601" '
      'xmlns:Objecten-ref="www.kadaster.nl/schemas/lvbag/imbag/objecten-ref/v20200601" '
      'xmlns:gml="http://www.opengis.net/gml/3.2" '
      'xmlns:sl-bag-extract="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601" '
      'xmlns:sl="http://www.kadaster.nl/schemas/standlevering-generiek/1.0" '
      'xmlns:selecties-extract="http://www.kadaster.nl/schemas/lvbag/extract-selecties/v20200601"')
HEAD = (f'<?xml version="1.0" encoding="UTF-8"?>\n<sl-bag-extract:bagStand {NS}>\n<sl-bag-extract:bagInfo>'
        f'<selecties-extract:LVC-Extract><selecties-extract:StandTechnischeDatum>{DAY}'
        '</selecties-extract:StandTechnischeDatum></selecties-extract:LVC-Extract></sl-bag-extract:bagInfo>\n'
        '<sl:standBestand><sl:dataset>LVBAG</sl:dataset><sl:inhoud><sl:gebied>NLD</sl:gebied>'
        '<sl:objectTypen><sl:objectType>{kind}</sl:objectType></sl:objectTypen></sl:inhoud>\n')
TAIL = "</sl:standBestand></sl-bag-extract:bagStand>\n"


def _voorkomen(n: int, begin: str, end: str | None = None) -> str:
    ended = (f"<Historie:eindGeldigheid>{end}</Historie:eindGeldigheid>"
             f"<Historie:eindRegistratie>{end}T10:00:00.000</Historie:eindRegistratie>") if end else ""
    return (f"<Objecten:voorkomen><Historie:Voorkomen><Historie:voorkomenidentificatie>{n}"
            f"</Historie:voorkomenidentificatie><Historie:beginGeldigheid>{begin}</Historie:beginGeldigheid>{ended}"
            f"<Historie:tijdstipRegistratie>{begin}T10:00:00.000</Historie:tijdstipRegistratie>"
            f"<Historie:BeschikbaarLV><Historie:tijdstipRegistratieLV>{begin}T10:05:00.000"
            "</Historie:tijdstipRegistratieLV></Historie:BeschikbaarLV></Historie:Voorkomen></Objecten:voorkomen>")


def _num(ident: int, number: int, letter: str, addition: str, postcode: str, kind: str, status: str, opr: int,
         begin: str, version: int, end: str | None) -> str:
    letter_xml = f"<Objecten:huisletter>{letter}</Objecten:huisletter>" if letter else ""
    addition_xml = f"<Objecten:huisnummertoevoeging>{addition}</Objecten:huisnummertoevoeging>" if addition else ""
    return (f'<sl-bag-extract:bagObject><Objecten:Nummeraanduiding><Objecten:identificatie '
            f'domein="NL.IMBAG.Nummeraanduiding">{ident:016d}</Objecten:identificatie>'
            f"<Objecten:huisnummer>{number}</Objecten:huisnummer>{letter_xml}{addition_xml}"
            f"<Objecten:postcode>{postcode}</Objecten:postcode>"
            f"<Objecten:typeAdresseerbaarObject>{kind}</Objecten:typeAdresseerbaarObject>"
            f"<Objecten:status>{status}</Objecten:status><Objecten:geconstateerd>N</Objecten:geconstateerd>"
            f"<Objecten:documentdatum>{begin}</Objecten:documentdatum>"
            f"<Objecten:documentnummer>BAG/{ident % 99991}</Objecten:documentnummer>{_voorkomen(version, begin, end)}"
            f'<Objecten:ligtAan><Objecten-ref:OpenbareRuimteRef domein="NL.IMBAG.Openbareruimte">{opr:016d}'
            "</Objecten-ref:OpenbareRuimteRef></Objecten:ligtAan></Objecten:Nummeraanduiding>"
            "</sl-bag-extract:bagObject>\n")


def _obj(tag: str, ident: int, main: int, side: int | None, status: str, x: float, y: float) -> str:
    side_xml = (f'<Objecten:heeftAlsNevenadres><Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">'
                f"{side:016d}</Objecten-ref:NummeraanduidingRef></Objecten:heeftAlsNevenadres>") if side else ""
    extra = ("<Objecten:gebruiksdoel>woonfunctie</Objecten:gebruiksdoel><Objecten:oppervlakte>87"
             "</Objecten:oppervlakte>") if tag == "Verblijfsobject" else ""
    pand = (f'<Objecten:maaktDeelUitVan><Objecten-ref:PandRef domein="NL.IMBAG.Pand">{ident + 7:016d}'
            "</Objecten-ref:PandRef></Objecten:maaktDeelUitVan>") if tag == "Verblijfsobject" else ""
    return (f'<sl-bag-extract:bagObject><Objecten:{tag}><Objecten:heeftAlsHoofdadres>'
            f'<Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">{main:016d}'
            f"</Objecten-ref:NummeraanduidingRef></Objecten:heeftAlsHoofdadres>{side_xml}{_voorkomen(1, '2010-01-01')}"
            f'<Objecten:identificatie domein="NL.IMBAG.{tag}">{ident:016d}</Objecten:identificatie>'
            f'<Objecten:geometrie><Objecten:punt><gml:Point srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="3">'
            f"<gml:pos>{x:.3f} {y:.3f} 0.0</gml:pos></gml:Point></Objecten:punt></Objecten:geometrie>{extra}"
            f"<Objecten:status>{status}</Objecten:status><Objecten:geconstateerd>N</Objecten:geconstateerd>"
            "<Objecten:documentdatum>2010-01-01</Objecten:documentdatum><Objecten:documentnummer>BAG/1"
            f"</Objecten:documentnummer>{pand}</Objecten:{tag}></sl-bag-extract:bagObject>\n")


def _stands(objects: list[str]) -> str:
    """Every object in its own ``sl:stand``, as in Kadaster's files (see the NLExtract sample in bag_real)."""
    return "".join(f"<sl:stand>{o}</sl:stand>" for o in objects)


def _inner(outer: zipfile.ZipFile, kind: str, objects: list[str], scratch: Path) -> None:
    """One inner zip (``9999{kind}{DATE}.zip``) of XML files with PER_FILE objects each."""
    inner_path = scratch / f"9999{kind}{DATE}.zip"
    with zipfile.ZipFile(inner_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as inner:
        for part, start in enumerate(range(0, max(len(objects), 1), PER_FILE), start=1):
            body = _stands(objects[start:start + PER_FILE])
            inner.writestr(f"9999{kind}{DATE}-{part:06d}.xml", HEAD.format(kind=kind) + body + TAIL)
    outer.write(inner_path, inner_path.name)
    inner_path.unlink()


def _stream_inner(outer: zipfile.ZipFile, kind: str, chunks, scratch: Path) -> None:
    """Like :func:`_inner` for large object types: ``chunks`` yields lists of PER_FILE objects."""
    inner_path = scratch / f"9999{kind}{DATE}.zip"
    with zipfile.ZipFile(inner_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as inner:
        for part, objects in enumerate(chunks, start=1):
            inner.writestr(f"9999{kind}{DATE}-{part:06d}.xml", HEAD.format(kind=kind) + _stands(objects) + TAIL)
    outer.write(inner_path, inner_path.name)
    inner_path.unlink()


def write_extract(path: Path, numbers: int, seed: int = 1) -> dict[str, int]:
    """Write a synthetic national extract with ``numbers`` numbers; returns object counts."""
    rng = np.random.default_rng(seed)
    n_places, n_munis = 2500, 342
    n_streets = max(numbers // 40, 10)
    scratch = path.parent
    counts = {"NUM": 0, "VBO": 0, "LIG": 0, "STA": 0, "OPR": n_streets, "WPL": n_places}
    street_place = rng.integers(0, n_places, n_streets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as outer:
        outer.writestr("Leveringsdocument-BAG-Extract.xml",
                       '<?xml version="1.0" encoding="UTF-8"?><xb:BAG-Extract-Levering xmlns:xb="http://www.kadaster.nl/'
                       'schemas/lvbag/extract-levering/v20200601" xmlns:selecties-extract="http://www.kadaster.nl/'
                       'schemas/lvbag/extract-selecties/v20200601"><xb:SelectieGegevens><selecties-extract:LVC-Extract>'
                       f"<selecties-extract:StandTechnischeDatum>{DAY}</selecties-extract:StandTechnischeDatum>"
                       "</selecties-extract:LVC-Extract></xb:SelectieGegevens></xb:BAG-Extract-Levering>")
        _inner(outer, "WPL", [
            f'<sl-bag-extract:bagObject><Objecten:Woonplaats><Objecten:identificatie domein="NL.IMBAG.Woonplaats">'
            f"{1000 + p}</Objecten:identificatie><Objecten:naam>Plaats {p}</Objecten:naam>"
            f"<Objecten:status>Woonplaats aangewezen</Objecten:status>{_voorkomen(1, '2009-01-01')}"
            "</Objecten:Woonplaats></sl-bag-extract:bagObject>\n" for p in range(n_places)], scratch)
        _inner(outer, "OPR", [
            f'<sl-bag-extract:bagObject><Objecten:OpenbareRuimte><Objecten:identificatie domein="NL.IMBAG.'
            f'Openbareruimte">{300000000000 + s:016d}</Objecten:identificatie><Objecten:naam>Straat {s}'
            "</Objecten:naam><Objecten:type>Weg</Objecten:type><Objecten:status>Naamgeving uitgegeven"
            f'</Objecten:status><Objecten:ligtIn><Objecten-ref:WoonplaatsRef domein="NL.IMBAG.Woonplaats">'
            f"{1000 + street_place[s]}</Objecten-ref:WoonplaatsRef></Objecten:ligtIn>{_voorkomen(1, '2009-01-01')}"
            "</Objecten:OpenbareRuimte></sl-bag-extract:bagObject>\n" for s in range(n_streets)], scratch)
        kinds = rng.random(numbers)
        kind = np.where(kinds < 0.0013, 2, np.where(kinds < 0.0067, 3, 1))  # 1 VBO, 2 LIG, 3 STA
        street = np.sort(rng.integers(0, n_streets, numbers))
        side = rng.random(numbers) < 0.02
        # the numbers: 40 per street, a letter or an addition on some
        ids = 200000000000 + np.arange(numbers)
        house = np.zeros(numbers, dtype=np.int64)
        starts = np.r_[0, np.flatnonzero(np.diff(street)) + 1]
        for a, b in zip(starts, np.r_[starts[1:], numbers]):
            house[a:b] = np.arange(1, b - a + 1)
        letters = np.where(rng.random(numbers) < 0.05, "A", "")
        additions = np.where(rng.random(numbers) < 0.10, "1", "")
        history = rng.random(numbers) < 0.05
        withdrawn = rng.random(numbers) < 0.003
        postcode = 1011 + (street % 8900)
        pc_letters = (street // 8900) % 676

        def num_chunks():
            names = {1: "Verblijfsobject", 2: "Ligplaats", 3: "Standplaats"}
            for start in range(0, numbers, PER_FILE):
                out = []
                for i in range(start, min(start + PER_FILE, numbers)):
                    pc = f"{postcode[i]}{chr(65 + pc_letters[i] // 26)}{chr(65 + pc_letters[i] % 26)}"
                    status = "Naamgeving ingetrokken" if withdrawn[i] else "Naamgeving uitgegeven"
                    opr = 300000000000 + int(street[i])
                    if history[i]:
                        out.append(_num(ids[i], house[i], "", "", pc, names[kind[i]], status, opr, "2009-01-01", 1,
                                        "2015-01-01"))
                    out.append(_num(ids[i], house[i], letters[i], additions[i], pc, names[kind[i]], status, opr,
                                    "2015-01-01" if history[i] else "2009-01-01", 2 if history[i] else 1, None))
                counts["NUM"] += PER_FILE
                yield out
        _stream_inner(outer, "NUM", num_chunks(), scratch)
        counts["NUM"] = numbers
        # every number not a secondary address has its own object; a secondary one sits on the object before it
        for code, tag, status in ((1, "Verblijfsobject", "Verblijfsobject in gebruik"),
                                  (2, "Ligplaats", "Plaats aangewezen"), (3, "Standplaats", "Plaats aangewezen")):
            owners = np.flatnonzero((kind == code) & ~side)
            nxt = np.r_[owners[1:], -1]

            def obj_chunks(owners=owners, nxt=nxt, tag=tag, status=status, code=code):
                for start in range(0, max(len(owners), 1), PER_FILE):
                    out = []
                    for j in range(start, min(start + PER_FILE, len(owners))):
                        i = owners[j]
                        s = int(ids[i + 1]) if i + 1 < numbers and side[i + 1] and kind[i + 1] == code else None
                        out.append(_obj(tag, int(10_000_000_000 * code + i), int(ids[i]), s, status,
                                        100000 + (i % 1000) * 100.5, 400000 + (i % 777) * 50.25))
                    yield out
            _stream_inner(outer, {1: "VBO", 2: "LIG", 3: "STA"}[code], obj_chunks(), scratch)
            counts[{1: "VBO", 2: "LIG", 3: "STA"}[code]] = len(owners)
        gem = "".join(
            "<gwr-product:GemeenteWoonplaatsRelatie><gwr-product:tijdvakgeldigheid>"
            "<bagtypes:begindatumTijdvakGeldigheid>2010-01-01</bagtypes:begindatumTijdvakGeldigheid>"
            "</gwr-product:tijdvakgeldigheid><gwr-product:gerelateerdeWoonplaats><gwr-product:identificatie>"
            f"{1000 + p}</gwr-product:identificatie></gwr-product:gerelateerdeWoonplaats>"
            f"<gwr-product:gerelateerdeGemeente><gwr-product:identificatie>{p % n_munis:04d}"
            "</gwr-product:identificatie></gwr-product:gerelateerdeGemeente><gwr-product:status>definitief"
            "</gwr-product:status></gwr-product:GemeenteWoonplaatsRelatie>" for p in range(n_places))
        gem_xml = ('<?xml version="1.0" encoding="UTF-8"?><gwr-bestand:BAG-GWR-Deelbestand-LVC xmlns:gwr-bestand="www.'
                   'kadaster.nl/schemas/lvbag/gem-wpl-rel/gwr-deelbestand-lvc/v20200601" xmlns:gwr-product="www.kadaster'
                   '.nl/schemas/lvbag/gem-wpl-rel/gwr-producten-lvc/v20200601" xmlns:bagtypes="www.kadaster.nl/schemas/'
                   'lvbag/gem-wpl-rel/bag-types/v20200601"><gwr-bestand:Product><gwr-product:GemeenteWoonplaatsRelatie'
                   f"Product>{gem}</gwr-product:GemeenteWoonplaatsRelatieProduct></gwr-bestand:Product>"
                   "</gwr-bestand:BAG-GWR-Deelbestand-LVC>")
        gem_path = scratch / f"GEM-WPL-RELATIE-{DATE}.zip"
        with zipfile.ZipFile(gem_path, "w", zipfile.ZIP_DEFLATED) as inner:
            inner.writestr(f"GEM-WPL-RELATIE-{DATE}-000001.xml", gem_xml)
        outer.write(gem_path, gem_path.name)
        gem_path.unlink()
    return counts


def _peak() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _load_child(extract: str, store: str) -> None:
    from cdq.address import load_bag

    start = time.perf_counter()
    summary = load_bag(extract, out=store)
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak": _peak(),
                      "worker_peaks": int(summary.get("parse_worker_peak_bytes", 0)),
                      "cpu": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
                      "cpu_workers": workers.ru_utime + workers.ru_stime,
                      "rows": summary["rows"], "not_usable": summary["not_usable"],
                      "standdatum": summary["standdatum"], "size": summary["size_bytes"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=9_800_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="load the extract already in --workdir")
    parser.add_argument("--load-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_child:
        _load_child(*args.load_child)
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cdq_bench_lvbag_"))
    work.mkdir(parents=True, exist_ok=True)
    extract, store = work / "lvbag-extract-nl.zip", work / "bag.sqlite"
    start = time.perf_counter()
    if args.reuse and extract.is_file():
        counts = {"reused": args.numbers}
    else:
        counts = write_extract(extract, args.numbers, args.seed)
    write_s = time.perf_counter() - start
    child = subprocess.run([sys.executable, __file__, "--load-child", str(extract), str(store)],
                           capture_output=True, text=True, check=True)
    done = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"extract: {counts} -> {extract.stat().st_size / 1e6:,.0f} MB zip, written in {write_s:,.0f}s")
    print(f"load-bag: {done['rows']:,} addresses ({done['not_usable']:,} withdrawn) in {done['seconds']:,.0f}s wall, "
          f"{done['cpu']:,.0f}s CPU ({done['cpu_workers']:,.0f}s of it in the two parse workers, which run side by "
          f"side); peak memory {done['peak'] / 1e6:,.0f} MB "
          f"(load process) + {done['worker_peaks'] / 1e6:,.0f} MB (both parse workers' peaks added) = "
          f"{(done['peak'] + done['worker_peaks']) / 1e6:,.0f} MB at most; store {done['size'] / 1e6:,.0f} MB, "
          f"standdatum {done['standdatum']}")
    print(f"workdir: {work}")


if __name__ == "__main__":
    main()
