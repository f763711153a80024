"""The processing register entry (verwerkingsregister, AVG art. 30) of cdq's pipelines, as Markdown.

Built from what cdq itself knows: the personal fields of the canonical schema, the inputs of each
pipeline (with the ``purpose`` written per input or per pipeline in its YAML), the retention rules and the
recipients (CRM targets, named by kind and host, never with credentials).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from cdq.columns import ADDRESS, CONTACT, EXTRA, ORGANISATION, PERSON
from cdq.privacy.retention import RetentionRules

__all__ = ["processing_register", "PERSONAL_FIELDS"]

#: Canonical fields that are personal data of a natural person (an organisation's own data is not).
PERSONAL_FIELDS = {
    "identity": [c for c in PERSON],
    "address": [c for c in ADDRESS if c != "bag_address_id"],
    "contact": CONTACT + EXTRA,
    "organisation contact person": [c for c in ORGANISATION if c in ("company_name",)],
    "relationship": ["adviser", "source_key"],
}


def _where(url: str | None) -> str:
    if not url:
        return "(none)"
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return f"{parts.scheme.split('+')[0]} database file"
    return f"{parts.scheme.split('+')[0]} at {parts.hostname or '?'}"


def _retention_lines(rules: RetentionRules) -> list[str]:
    def days(v):
        return "kept until erased" if v is None else f"{v} days"

    lines = [f"- source records deleted at their source: {days(rules.soft_deleted_records_days)} after deletion",
             f"- superseded golden record versions: {days(rules.golden_versions_days)}",
             f"- run artefacts (reports, review workbooks, printouts): {days(rules.run_artefacts_days)}"]
    p = rules.inactive_prospects
    lines.append(f"- prospects (only from {', '.join(p.sources)}): {p.months} months after last seen" if p else
                 "- prospects: kept until erased")
    return lines


def processing_register(pipelines: list[Path], retention: RetentionRules, *, controller: str = "") -> str:
    """Markdown for the register: one section per pipeline, plus the fields and retention."""
    from cdq.pipeline import load_pipeline

    out = ["# Verwerkingsregister — klantgegevens (cdq)", ""]
    if controller:
        out += [f"Verwerkingsverantwoordelijke: {controller}", ""]
    out += ["## Categorieën persoonsgegevens", ""]
    out += [f"- **{kind}**: {', '.join(f'`{c}`' for c in cols)}" for kind, cols in PERSONAL_FIELDS.items()]
    out += ["", "Categorieën betrokkenen: klanten en prospects (natuurlijke personen) en contactpersonen van "
            "organisaties. Geen bijzondere persoonsgegevens.", ""]
    for path in pipelines:
        spec = load_pipeline(path)
        out += [f"## Verwerking: {spec.name}", "", spec.description or "", "",
                f"- Doel: {spec.purpose or '(not stated: add `purpose:` to the pipeline YAML)'}",
                "- Bronnen:"]
        for item in spec.inputs:
            source = item.source or Path(item.path.split("?")[0]).stem
            purpose = item.purpose or "(no purpose stated)"
            out.append(f"  - `{source}`: {purpose}")
        out += [f"- Opslag (golden store): {_where(spec.store)}",
                f"- Ontvangers: {'CRM: ' + _where(spec.crm) if spec.crm else '(none)'}", ""]
    out += ["## Bewaartermijnen", "", *_retention_lines(retention), "",
            "## Rechten van betrokkenen", "",
            "- inzage: `cdq subject export`; correctie: self-service portal, printouts, steward overrides;",
            "- verwijdering: `cdq subject erase` (golden store en CRM; een tombstone houdt oude exports tegen).", ""]
    return "\n".join(out)
