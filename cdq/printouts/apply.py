"""Apply a returned verification form: validate the adviser's corrections, then store the accepted ones.

:func:`read_form` reads the form tolerant of how Excel or LibreOffice saved it (headers found by name, in
any order; numbers typed as numbers — a phone's lost leading zero comes back; status written in any case
or as 'ok' / 'fout'). :func:`validate` checks every correction (postcode format, the address exists in the
reference when one is given, e-mail syntax, phone dialable) and rejects the bad ones with a reason code.
The accepted corrections are applied as the high-trust source ``adviser_verification`` with
``source_updated_at`` = the return date: to the golden store through survivorship
(:func:`cdq.golden.merge_batch`; ``rules/survivorship.yaml`` ranks the source first), or, when the printout
came from a file, into a corrected copy of that file. Statuses 'overleden' and 'geen klant meer' are
reported for follow-up; nothing is deleted automatically.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdq.errors import InputError, UsageError
from cdq.printouts.dutch import STATUSES, issue_texts
from cdq.printouts.forms import (
    CORRECTIONS,
    KEY_COLUMN,
    META_SHEET,
    NOTE_COLUMN,
    NR_COLUMN,
    SHEET,
    STATUS_COLUMN,
)

__all__ = ["apply_returned", "ApplyResult", "read_form", "validate", "SOURCE", "CHANGE_COLUMNS"]

logger = logging.getLogger(__name__)

SOURCE = "adviser_verification"
CHANGE_COLUMNS = ["nr", "key", "status", "field", "old", "new", "outcome", "reason_code", "detail"]
ADDRESS_FIELDS = ["street", "house_number", "house_letter", "house_number_addition", "postcode", "city"]
_STATUS_WORDS = {"ok": "klopt", "juist": "klopt", "correct": "klopt", "akkoord": "klopt", "ja": "klopt",
                 "fout": "klopt niet", "onjuist": "klopt niet", "niet juist": "klopt niet", "nee": "klopt niet",
                 "verhuist": "verhuisd", "overleden.": "overleden", "geen klant": "geen klant meer"}
_FOLLOW_UP = {"overleden", "geen klant meer"}


@dataclass
class ApplyResult:
    """What applying a form did: one row per correction in ``changes`` (:data:`CHANGE_COLUMNS`).

    ``outcome`` is ``applied``, ``rejected`` (failed validation) or ``not_applied`` (accepted, but the
    stored value is another one afterwards). ``follow_up`` lists rows marked 'overleden' / 'geen klant
    meer' / 'verhuisd' without a new address, for a person to handle.
    """

    changes: pd.DataFrame
    counts: dict = field(default_factory=dict)
    follow_up: pd.DataFrame = field(default_factory=pd.DataFrame)
    output: Path | None = None
    run_id: int | None = None

    @property
    def applied(self) -> pd.DataFrame:
        return self.changes[self.changes["outcome"] == "applied"]

    @property
    def rejected(self) -> pd.DataFrame:
        return self.changes[self.changes["outcome"] == "rejected"]


# -- reading --------------------------------------------------------------------------------------------
def _cell_text(value) -> str | None:
    """A cell as text: 1234.0 -> '1234', a date -> 'yyyy-mm-dd', blanks -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    text = " ".join(str(value).split())
    return text or None


def _header_key(text) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


def _status(text: str | None) -> str | None:
    """A status as typed -> one of :data:`STATUSES` (None when empty; unknown values are kept as typed)."""
    if not text:
        return None
    key = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    return key if key in STATUSES else _STATUS_WORDS.get(key, text)


def _find_sheet(workbook):
    if SHEET in workbook.sheetnames:
        return workbook[SHEET]
    for sheet in workbook.worksheets:
        if any(_header_key(c.value) == _header_key(KEY_COLUMN) for row in sheet.iter_rows(max_row=5) for c in row):
            return sheet
    return None


def read_form(path: str | Path) -> tuple[dict, pd.DataFrame]:
    """``(meta, rows)`` of a returned form; rows have ``nr, key, status, note, row`` and one column per
    correction field (canonical names) with the typed text."""
    from openpyxl import load_workbook

    path = Path(path)
    try:
        workbook = load_workbook(path, data_only=True, read_only=False)
    except Exception as e:  # openpyxl raises many kinds for a file that is not an xlsx workbook
        raise InputError(path, f"cannot read the returned form ({type(e).__name__})",
                         hint="save the form as an Excel workbook (.xlsx) and try again") from e
    sheet = _find_sheet(workbook)
    if sheet is None:
        raise InputError(path, f"no sheet with a '{KEY_COLUMN}' column",
                         hint="use the return form that `cdq printouts` wrote for this adviser")
    meta = {}
    if META_SHEET in workbook.sheetnames:
        meta = {_cell_text(r[0]): _cell_text(r[1]) for r in workbook[META_SHEET].iter_rows(values_only=True)
                if r and r[0] is not None and len(r) > 1}
    return meta, _rows(path, sheet)


def _rows(path: Path, sheet) -> pd.DataFrame:
    values = list(sheet.iter_rows(values_only=True))
    head = next((i for i, r in enumerate(values[:5]) if any(_header_key(c) == _header_key(KEY_COLUMN) for c in r)), 0)
    index = {_header_key(c): i for i, c in enumerate(values[head]) if c is not None}
    wanted = {"nr": NR_COLUMN, "key": KEY_COLUMN, "status": STATUS_COLUMN, "note": NOTE_COLUMN,
              **{f: h for h, f in CORRECTIONS.items()}}
    missing = [h for h in (KEY_COLUMN, STATUS_COLUMN) if _header_key(h) not in index]
    if missing:
        raise InputError(path, f"the form has no column(s) {', '.join(missing)}", row=head + 1,
                         hint="do not rename or delete the form's columns")
    records = []
    for number, row in enumerate(values[head + 1:], start=head + 2):
        record = {k: _cell_text(row[index[_header_key(h)]]) if _header_key(h) in index and
                  index[_header_key(h)] < len(row) else None for k, h in wanted.items()}
        if record["key"]:
            records.append({**record, "row": number, "status": _status(record["status"])})
    return pd.DataFrame(records, columns=[*wanted, "row"])


# -- validation -----------------------------------------------------------------------------------------
def _reason(code: str, fallback: str) -> str:
    entry = issue_texts().get(code)
    return entry.text if entry else fallback


def _phone(text: str) -> str | None:
    """E.164 of a dialable number, by normalize's own verdict (a lost leading zero is restored there too)."""
    from cdq.normalize.phones import canonical_phones

    value = canonical_phones(pd.Series([text], dtype=object))["e164"].iloc[0]
    return value if isinstance(value, str) else None


def _email(text: str) -> str | None:
    """The normalized address, by normalize's own verdict (None when invalid)."""
    from cdq.normalize.emails import canonical_emails

    value = canonical_emails(pd.Series([text], dtype=object))["email"].iloc[0]
    return value if isinstance(value, str) else None


def _postcode(text: str) -> str | None:
    from cdq.address.keys import canonical_postcode, valid_postcode

    code = canonical_postcode(pd.Series([text]))
    return f"{code[0][:4]} {code[0][4:]}" if bool(valid_postcode(code)[0]) else None


def _field_value(name: str, text: str) -> tuple[dict | None, str | None, str | None]:
    """``(canonical values, reason code, detail)`` for one typed correction; values None = rejected."""
    from cdq.address_parts import split_house_number

    if name == "postcode":
        value = _postcode(text)
        return ({"postcode": value}, None, None) if value else (None, "POSTCODE_INVALID",
                                                                 _reason("POSTCODE_INVALID", "invalid postcode"))
    if name == "house_number_full":
        parts = split_house_number(text)
        if not parts.number or not re.fullmatch(r"\d{1,5}", parts.number):
            return None, "HOUSE_NUMBER_INVALID", _reason("HOUSE_NUMBER_INVALID", "invalid house number")
        return {"house_number": parts.number, "house_letter": parts.letter,
                "house_number_addition": parts.addition}, None, None
    if name in ("phone", "mobile"):
        value = _phone(text)
        return ({name: value}, None, None) if value else (None, "PHONE_NOT_DIALABLE",
                                                          _reason("PHONE_NOT_DIALABLE", "not dialable"))
    if name == "email":
        value = _email(text)
        return ({"email": value}, None, None) if value else (None, "EMAIL_INVALID",
                                                             _reason("EMAIL_INVALID", "invalid e-mail"))
    return {name: text}, None, None


def validate(rows: pd.DataFrame, current: pd.DataFrame, reference=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every typed correction; return ``(changes, corrected)``.

    ``changes`` has :data:`CHANGE_COLUMNS` (outcome ``accepted`` or ``rejected``); ``corrected`` is one row
    per key with accepted corrections: the current values with the corrections applied (address parts
    completed from the reference when one is given).
    """
    cur = current.drop_duplicates("row_key").set_index("row_key")
    changes, corrected = [], []
    for row in rows.to_dict("records"):
        if row["key"] not in cur.index:
            changes.append(_change(row, "key", None, row["key"], "rejected", "UNKNOWN_KEY",
                                   "deze sleutel staat niet in de klantgegevens (is de sleutel veranderd?)"))
            continue
        base = {k: (None if pd.isna(v) else v) for k, v in cur.loc[row["key"]].to_dict().items()}
        values, accepted = dict(base), []
        for name in CORRECTIONS.values():
            if not row.get(name):
                continue
            new, code, detail = _field_value(name, row[name])
            old = base.get("house_number") if name == "house_number_full" else base.get(name)
            if new is None:
                changes.append(_change(row, name, old, row[name], "rejected", code, detail))
                continue
            values.update(new)
            accepted.append((name, old, new))
        if accepted:
            corrected.append({**values, "row_key": row["key"], "_row": row, "_accepted": accepted, "_base": base})
    return _check_addresses(changes, corrected, reference)


def _change(row: dict, name: str, old, new, outcome: str, code: str | None = None, detail: str | None = None):
    return {"nr": row.get("nr"), "key": row.get("key"), "status": row.get("status"), "field": name,
            "old": old, "new": new, "outcome": outcome, "reason_code": code, "detail": detail}


def _check_addresses(changes: list, corrected: list, reference) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Look corrected addresses up in the reference; an address that does not exist rejects its fields."""
    frame = pd.DataFrame(corrected)
    address_names = {"street", "house_number_full", "postcode", "city"}
    touched = (frame["_accepted"].map(lambda a: any(n in address_names for n, _, _ in a)) if len(frame)
               else pd.Series([], dtype=bool))
    if reference is not None and len(frame) and touched.any():
        from cdq.address import complete

        sub = frame.loc[touched, ["row_key", *ADDRESS_FIELDS]].rename(columns={"row_key": "record_id"})
        # a new postcode without a new street/city: the old ones belong to the old address; the
        # reference fills in the new ones
        for i in sub.index:
            typed = {n for n, _, _ in frame.at[i, "_accepted"]}
            if "postcode" in typed:
                for column in ("street", "city"):
                    if column not in typed:
                        sub.at[i, column] = None
        done, _ = complete(sub, reference)
        for i, status in zip(sub.index, done["address_status"]):
            if status in ("not_found", "invalid", "ambiguous"):
                code = {"not_found": "ADDRESS_NOT_FOUND", "invalid": "ADDRESS_INVALID_POSTCODE",
                        "ambiguous": "ADDRESS_AMBIGUOUS"}[status]
                keep = [a for a in frame.at[i, "_accepted"] if a[0] not in address_names]
                for name, old, new in frame.at[i, "_accepted"]:
                    if name in address_names:
                        changes.append(_change(frame.at[i, "_row"], name, old, _shown(name, new), "rejected",
                                               code, _reason(code, status)))
                frame.at[i, "_accepted"] = keep
                for column in ADDRESS_FIELDS:  # the whole address stays as it was
                    frame.at[i, column] = frame.at[i, "_base"].get(column)
            else:
                for column in ADDRESS_FIELDS + ["bag_address_id"]:
                    frame.at[i, column] = done.at[i, column] if column in done else None
                frame.at[i, "address_status"] = status
    for record in frame.to_dict("records") if len(frame) else []:
        for name, old, new in record["_accepted"]:
            changes.append(_change(record["_row"], name, old, _shown(name, new), "accepted"))
    if len(frame):
        frame = frame[frame["_accepted"].map(bool)]
    return pd.DataFrame(changes, columns=CHANGE_COLUMNS), frame


def _shown(name: str, new: dict) -> str:
    """A validated correction as one text ('12A-2' for a house number)."""
    if name == "house_number_full":
        number = (new.get("house_number") or "") + (new.get("house_letter") or "")
        return f"{number}-{new['house_number_addition']}" if new.get("house_number_addition") else number
    return next(iter(new.values()))


# -- applying -------------------------------------------------------------------------------------------
def _return_date(meta: dict, path: Path, given: dt.date | None) -> dt.date:
    """The date the adviser verified: given, else the form's 'returned' meta, else the file's mtime."""
    if given:
        return given
    if meta.get("returned"):
        try:
            return dt.date.fromisoformat(meta["returned"][:10])
        except ValueError:
            pass
    return dt.date.fromtimestamp(path.stat().st_mtime)


def _current_from_store(store, keys: list[str]) -> pd.DataFrame:
    from cdq.golden import golden_frame

    resolved = {k: store.resolve(k) for k in keys}  # a customer merged since the printout: its survivor
    with store.engine.connect() as conn:
        rows = store.golden(conn, set(resolved.values()))
    frame = golden_frame(rows[["golden_id", "data"]]) if len(rows) else pd.DataFrame(columns=["golden_id"])
    by_id = frame.set_index("golden_id")
    out = pd.DataFrame([{**by_id.loc[g].to_dict(), "golden_id": g, "row_key": k}
                        for k, g in resolved.items() if g in by_id.index])
    return out if len(out) else pd.DataFrame(columns=["row_key", "golden_id"])


def _follow_up(rows: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    moved_without = rows["status"].eq("verhuisd") & ~rows["key"].isin(
        changes.loc[changes["outcome"] != "rejected", "key"])
    mask = rows["status"].isin(_FOLLOW_UP) | moved_without
    return rows.loc[mask, ["nr", "key", "status", "note"]].reset_index(drop=True)


def _counts(rows: pd.DataFrame, changes: pd.DataFrame) -> dict:
    unknown = rows["status"].notna() & ~rows["status"].isin(STATUSES)
    return {"rows": len(rows), "confirmed": int((rows["status"] == "klopt").sum()),
            "applied": int((changes["outcome"] == "applied").sum()),
            "rejected": int((changes["outcome"] == "rejected").sum()),
            "not_applied": int((changes["outcome"] == "not_applied").sum()),
            "unknown_status": int(unknown.sum())}


def apply_returned(path: str | Path, store_url: str | None = None, reference=None, *,
                   return_date: dt.date | None = None, out: str | Path | None = None) -> ApplyResult:
    """Apply a returned form; see the module docstring.

    Args:
        path: the returned ``.xlsx``.
        store_url: the golden store to write to. Required for a form printed from a store: the store the
            form names is only checked against it, never written to on the form's say-so.
        reference: an address reference store (:class:`cdq.address.AddressStore`) to check addresses.
        return_date: the verification date (default: the file's modification time).
        out: where to write the corrected file when the printout came from a file (default:
            ``<form>_verwerkt.csv`` beside the form).
    """
    path = Path(path)
    meta, rows = read_form(path)
    day = _return_date(meta, path, return_date)
    if meta.get("key_kind") == "golden_id" or store_url:
        return _apply_to_store(path, rows, _target_store(path, meta, store_url), reference, day)
    if not meta.get("source"):
        raise UsageError(f"{path} does not say which file or store its rows came from",
                         hint="pass the golden store with --store URL")
    return _apply_to_file(path, rows, Path(meta["source"]), reference, day, out, meta.get("adviser"))


def _adviser_records(corrected: pd.DataFrame, existing: dict, rules, day: dt.date, form: Path,
                     adviser: str | None) -> pd.DataFrame:
    """One ``adviser_verification`` source record per golden id: its earlier corrections plus the groups
    touched now (a group is taken whole, so an address never mixes two records)."""
    from cdq.golden import PAYLOAD_COLUMNS

    group_of = {c: g for g in rules.groups for c in g.columns}
    records = []
    for rec in corrected.to_dict("records"):
        fields = {n for n, _, _ in rec["_accepted"]}
        columns = {"house_number_full": "house_number"}
        groups = {g for n in fields if (g := group_of.get(columns.get(n, n))) is not None}
        payload = dict(existing.get(rec["golden_id"], {}))
        for group in groups:
            payload.update({c: rec.get(c) for c in group.columns})
        if any(g.name == "address" for g in groups) and rec.get("address_status"):
            payload["address_status"] = rec["address_status"]
        payload.update({"source": SOURCE, "source_key": rec["golden_id"], "source_file": form.name,
                        "source_row": str(rec["_row"]["row"]), "adviser": adviser or payload.get("adviser"),
                        "source_updated_at": day.isoformat()})
        records.append({c: payload.get(c) for c in PAYLOAD_COLUMNS} | {"record_id": f"{SOURCE}:{rec['golden_id']}"})
    return pd.DataFrame(records)


def _target_store(form: Path, meta: dict, store_url: str | None) -> str:
    """The store a form's corrections go to: the one the user names, and only that one.

    A returned form is input from outside: the store URL in its hidden sheet may have been edited, so it
    never chooses where to write. When both are known they must name the same store.
    """
    from cdq.store import masked_url

    if not store_url:
        raise UsageError(f"{form} was printed from a golden store: name the store to apply it to",
                         hint="pass --store URL (the form's own store is only checked, never used instead)")
    printed = meta.get("source") if meta.get("key_kind") == "golden_id" else None
    if printed and _same_store(printed) != _same_store(store_url):
        raise UsageError(f"{form} was printed from golden store {masked_url(printed)}, not from "
                         f"{masked_url(store_url)}", hint="pass the store the printout was made from")
    return store_url


def _same_store(url: str) -> str:
    """A store URL compared without its password, a SQLite path made absolute."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.set(password=None, drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def _apply_to_store(form: Path, rows: pd.DataFrame, url: str, reference, day: dt.date) -> ApplyResult:
    from cdq.golden import PAYLOAD_COLUMNS, merge_batch
    from cdq.store import GoldenStore
    from cdq.survivorship import load_rules

    store, rules = GoldenStore(url, must_exist=True), load_rules()
    current = _current_from_store(store, list(rows["key"].dropna().unique()))
    changes, corrected = validate(rows, current, reference)
    run_id = None
    if len(corrected):
        with store.engine.connect() as conn:
            members = store.members(conn, set(corrected["golden_id"]))
        live = members[members["deleted_run"].isna()]
        existing = {g: json.loads(p) for g, p, r in zip(live["golden_id"], live["payload"], live["ref"])
                    if r.startswith(SOURCE + "|")}
        adviser = rows_adviser(rows, current)
        batch = _adviser_records(corrected, existing, rules, day, form, adviser)
        anchors = live[~live["ref"].str.startswith(SOURCE + "|")].drop_duplicates("golden_id")
        stored = pd.DataFrame([json.loads(p) for p in anchors["payload"]], columns=PAYLOAD_COLUMNS)
        stored["record_id"] = anchors["ref"].to_numpy()
        staging = pd.concat([batch, stored], ignore_index=True)
        clusters = pd.DataFrame({"record_id": list(batch["record_id"]) + list(anchors["ref"]),
                                 "cluster_id": list(batch["source_key"]) + list(anchors["golden_id"])})
        run_id = store.start_run(SOURCE)
        merged = merge_batch(staging, clusters, store, rules, run_id)
        store.finish_run(run_id, counts=merged.counts)
        changes = _outcomes(changes, store, corrected)
    else:
        changes["outcome"] = changes["outcome"].replace("accepted", "applied")
    result = ApplyResult(changes, _counts(rows, changes), _follow_up(rows, changes), run_id=run_id)
    logger.info("printouts apply: %s", result.counts)
    return result


def rows_adviser(rows: pd.DataFrame, current: pd.DataFrame) -> str | None:
    """The adviser of the form's customers (the most common one in the current values)."""
    if "adviser" not in current or current["adviser"].dropna().empty:
        return None
    return str(current["adviser"].dropna().mode().iat[0])


def _outcomes(changes: pd.DataFrame, store, corrected: pd.DataFrame) -> pd.DataFrame:
    """``accepted`` -> ``applied`` when the golden record now holds the value, else ``not_applied``."""
    after = _current_from_store(store, list(corrected["row_key"])).set_index("row_key")
    out = changes.copy()
    for i in out.index[out["outcome"] == "accepted"]:
        key, name, new = out.at[i, "key"], out.at[i, "field"], out.at[i, "new"]
        column = "house_number" if name == "house_number_full" else name
        have = after.at[key, column] if key in after.index and column in after.columns else None
        expected = new.split("-")[0].rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if name == "house_number_full" else new
        ok = have is not None and str(have) == str(expected)
        out.at[i, "outcome"] = "applied" if ok else "not_applied"
        if not ok:
            out.at[i, "reason_code"], out.at[i, "detail"] = "KEPT_BY_SURVIVORSHIP", "another source's value won"
    return out


def _apply_to_file(form: Path, rows: pd.DataFrame, source: Path, reference, day: dt.date,
                   out: str | Path | None, adviser: str | None) -> ApplyResult:
    from cdq.export import write_table
    from cdq.printouts.records import load_customers

    if not source.exists():
        raise UsageError(f"the printout's input file {source} is gone",
                         hint="put it back, or apply the form to a golden store with --store URL")
    frame = load_customers(source)
    changes, corrected = validate(rows, frame, reference)
    changes["outcome"] = changes["outcome"].replace("accepted", "applied")
    output = Path(out) if out else form.with_name(f"{form.stem}_verwerkt.csv")
    frame = frame.set_index("row_key", drop=False)
    columns = sorted({c for g in (ADDRESS_FIELDS, ["bag_address_id", "address_status"], list(CORRECTIONS.values()))
                      for c in g} - {"house_number_full"})
    for rec in corrected.to_dict("records") if len(corrected) else []:
        for column in columns:
            if column in rec and column in frame.columns:
                frame.at[rec["row_key"], column] = rec[column]
    status = rows.set_index("key")["status"]
    frame["verification_status"] = frame["row_key"].map(status)
    frame["verified_on"] = frame["row_key"].map(lambda k: day.isoformat() if k in status.index else None)
    frame["verified_by"] = frame["row_key"].map(lambda k: (adviser or SOURCE) if k in status.index else None)
    write_table(frame.reset_index(drop=True).drop(columns=["adviser_label"]), output)
    result = ApplyResult(changes, _counts(rows, changes), _follow_up(rows, changes), output=output)
    logger.info("printouts apply: %s", result.counts)
    return result

