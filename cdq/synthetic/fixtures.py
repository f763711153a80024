"""Write the bundled fixtures: one small Dutch customer population spread over files of every supported kind.

Run ``python -m cdq.synthetic.fixtures [OUT_DIR]`` (default: the repository's ``fixtures/``). The same seed
writes the same text files byte for byte; ``truth.csv`` maps every record (file, table, row) to its true
entity, and ``fixtures/README.md`` lists what is planted where.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.synthetic import fixture_formats as F
from cdq.synthetic.corrupt import vary_records
from cdq.synthetic.people import generate_population

logger = logging.getLogger(__name__)

SEED = 20240501
N_ENTITIES = 160
N_ADVISERS = 5
#: Records that are not customers at all (test entries, placeholders): name -> e-mail.
JUNK = [("Test", "Test", "test@test.nl"), ("Mickey", "Mouse", "mickey@disney.com"), ("asdf", "asdfgh", ""),
        ("xxx", "xxx", "")]


class _Plan:
    """Collects the records of every file and the truth rows."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.pop = generate_population(N_ENTITIES, seed, n_advisers=N_ADVISERS)
        self.truth: list[pd.DataFrame] = []
        self.addresses: list[pd.DataFrame] = []
        self._key = 1000

    def records(self, rows: pd.DataFrame, dup: bool, force: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """Varied records for population rows; ``dup`` marks them as further copies (varied more)."""
        flags = np.full(len(rows), dup)
        rec = vary_records(rows, flags, self.rng, n_advisers=N_ADVISERS, force=force)
        rec["source_key"] = [str(self._key + i) for i in range(len(rec))]
        self._key += len(rec) + 17
        self.addresses.append(rec[["true_street", "true_house_number", "true_city"]])
        return rec

    def sample(self, mask: pd.Series, n: int) -> pd.DataFrame:
        rows = self.pop[mask]
        return rows.iloc[np.sort(self.rng.choice(len(rows), size=min(n, len(rows)), replace=False))]

    def add_truth(self, file: str, rec: pd.DataFrame, where: pd.DataFrame) -> None:
        self.truth.append(pd.DataFrame({
            "file": file, "table": where["table"].to_numpy(), "row": where["row"].to_numpy(),
            "ordinal": where["ordinal"].to_numpy(), "role": "", "source_key": rec["source_key"].to_numpy(),
            "email": rec["email"].to_numpy(), "entity_id": rec["entity_id"].to_numpy(),
            "planted": rec["variations"].to_numpy()}))


def _junk(template: pd.DataFrame, start: int) -> pd.DataFrame:
    """Placeholder records a steward wants flagged, not merged into a real customer."""
    rows = template.iloc[: len(JUNK)].copy()
    for col in rows.columns:
        rows[col] = ""
    rows["party_type"], rows["country"] = "person", "NL"
    rows["first_name"] = [j[0] for j in JUNK]
    rows["last_name"] = [j[1] for j in JUNK]
    rows["email"] = [j[2] for j in JUNK]
    rows["entity_id"] = [f"JUNK{start + i}" for i in range(len(JUNK))]
    rows["variations"] = "junk_name"
    return rows.reset_index(drop=True)


def _plant_address_errors(rec: pd.DataFrame) -> pd.DataFrame:
    """Address faults for completion to find: no street, wrong postcode letters, alias city, invalid
    postcode, a house number that does not exist."""
    rec = rec.copy()
    persons = np.flatnonzero((rec["party_type"] == "person").to_numpy() & (rec["postcode"] != "").to_numpy())
    plan = [("no_street", persons[0:3]), ("wrong_postcode_letters", persons[3:6]), ("invalid_postcode", persons[6:7]),
            ("no_such_number", persons[7:8]), ("city_alias", persons[8:10])]
    for name, idx in plan:
        for i in idx:
            pc = rec.at[i, "postcode"].replace(" ", "").replace("-", "").upper()
            if name == "no_street":
                rec.at[i, "street"] = ""
            elif name == "wrong_postcode_letters":
                rec.at[i, "postcode"] = pc[:4] + ("ZZ" if pc[4:] != "ZZ" else "ZY")
            elif name == "invalid_postcode":
                rec.at[i, "postcode"] = pc[:4] + " SA"
            elif name == "no_such_number":
                rec.at[i, "house_number"], rec.at[i, "house_letter"], rec.at[i, "house_number_addition"] = "999", "", ""
            else:
                rec.at[i, "city"] = {"'s-Gravenhage": "Den Haag", "'s-Hertogenbosch": "Den Bosch"}.get(
                    rec.at[i, "city"], rec.at[i, "city"][:-1])
            rec.at[i, "variations"] = ";".join(x for x in (rec.at[i, "variations"], name) if x)
    return rec


def build(out: Path, seed: int = SEED, office: bool = True, bag: Path | None = None) -> pd.DataFrame:
    """Write every fixture file into ``out``; returns the truth table (also written to ``truth.csv``).

    ``office=False`` skips the .xls/.ods files (they need LibreOffice and take a few seconds each);
    ``bag`` is where to write the demo BAG table holding every true address and its neighbours.
    """
    out.mkdir(parents=True, exist_ok=True)
    plan = _Plan(seed)
    pop = plan.pop
    is_person = pop["party_type"] == "person"
    mail_truth: list[dict] = []

    # adviser files: every customer of the adviser, three of Jansen's twice (a within-file duplicate)
    jansen = pop[pop["adviser"] == "P. Jansen"]
    jansen = pd.concat([jansen, jansen[jansen["party_type"] == "person"].iloc[:3]])
    rec = plan.records(jansen, dup=False)
    rec = pd.concat([rec, _junk(rec, 1).iloc[3:]], ignore_index=True)
    rec["note"] = ""
    rec.loc[len(rec) - 2, "note"] = "=HYPERLINK(\"http://voorbeeld.invalid\",\"klik\")"
    rec.loc[len(rec) - 1, "source_key"] = "9999"
    plan.add_truth("adviseur_jansen.xlsx", rec, F.write_adviser_xlsx(rec, out / "adviseur_jansen.xlsx", "P. Jansen"))
    for adviser, name in (("M. de Vries", "adviseur_de_vries.xls"), ("A. Bakker", "adviseur_bakker.ods")):
        rec = plan.records(pop[pop["adviser"] == adviser], dup=False)
        if office:
            plan.add_truth(name, rec, F.write_office_copy(rec, out / name, adviser))

    # back office: three in four customers again, with planted address faults and junk rows
    rec = _plant_address_errors(plan.records(plan.sample(pop["entity_id"] != "", int(N_ENTITIES * 0.75)), dup=True))
    junk = _junk(rec, 0).iloc[:3]
    junk["source_key"] = ["0000001", "0000002", "0000003"]
    rec = pd.concat([rec, junk], ignore_index=True)
    rec["source_key"] = rec["source_key"].str.zfill(7)
    plan.add_truth("backoffice_export.csv", rec, F.write_backoffice_csv(rec, out / "backoffice_export.csv"))

    rec = plan.records(pd.concat([pop[~is_person], plan.sample(is_person, 15)]), dup=True)
    plan.add_truth("erp.sqlite", rec, F.write_sqlite(rec, out / "erp.sqlite"))
    rec = plan.records(plan.sample(pd.Series(True, index=pop.index), 30), dup=True)
    plan.add_truth("outlook_contacts.csv", rec, F.write_outlook_csv(rec, out / "outlook_contacts.csv"))
    rec = plan.records(plan.sample(is_person, 25), dup=True)
    plan.add_truth("google_contacts.csv", rec, F.write_google_csv(rec, out / "google_contacts.csv"))
    rec = plan.records(plan.sample(is_person, 20), dup=True)
    rec["email2"] = np.where(np.arange(len(rec)) % 4 == 1, rec["last_name"].str.lower().str.replace(r"[^a-z]", "", regex=True)
                             + "@werk-voorbeeld.nl", "")
    plan.add_truth("contacts.vcf", rec, F.write_vcards(rec, out / "contacts.vcf"))

    with_mail = is_person & (pop["email"] != "")
    for writer, target, n in ((F.write_mbox, out / "mailbox.mbox", 8), (F.write_eml_folder, out / "mail", 5)):
        rec = plan.records(plan.sample(with_mail, n), dup=False, force={"missing": np.zeros(n, bool)})
        rec["email"] = np.where(rec["email"] == "", pop.set_index("entity_id").loc[rec["entity_id"], "email"], rec["email"])
        for row in writer(rec, target):
            r = rec.iloc[row.pop("record")]
            mail_truth.append({**row, "source_key": "", "entity_id": r["entity_id"], "planted": r["variations"]})
    F.write_broken(out / "broken", out / "adviseur_jansen.xlsx", seed)

    truth = pd.concat(plan.truth + [pd.DataFrame(mail_truth)], ignore_index=True)
    truth = truth[["file", "table", "row", "ordinal", "role", "source_key", "email", "entity_id", "planted"]]
    truth.to_csv(out / "truth.csv", index=False, lineterminator="\n")
    pop.to_csv(out / "truth_entities.csv", index=False, lineterminator="\n")
    if bag is not None:
        from cdq.synthetic.reference import BAG_COLUMNS, demo_bag

        true = pd.concat(plan.addresses, ignore_index=True)
        true.columns = ["street", "house_number", "city"]
        known = pd.concat([pop[["street", "house_number", "city"]], true], ignore_index=True)
        table = demo_bag(known[known["street"] != ""].drop_duplicates())
        bag.parent.mkdir(parents=True, exist_ok=True)
        table[BAG_COLUMNS].to_csv(bag, sep=";", index=False, lineterminator="\n")
    logger.info("wrote fixtures to %s: %d records of %d entities", out, len(truth), truth["entity_id"].nunique())
    return truth


def default_dir() -> Path:
    """The repository's ``fixtures/`` folder."""
    return Path(__file__).resolve().parents[2] / "fixtures"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else default_dir()
    bag = default_dir().parent / "reference_data" / "demo_bag.csv" if len(sys.argv) == 1 else target / "demo_bag.csv"
    build(target, bag=bag)
