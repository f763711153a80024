"""What the console and the portal share: templates, labels in Dutch and English, security headers, CSRF.

Every page is rendered with Jinja2 autoescaping (a name such as ``<script>`` is shown as text), carries a
Content-Security-Policy that allows only this server's own scripts and styles, is never cached, and sends
no Referer (a portal link's token must not leak to another site).
"""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

LABELS: dict[str, dict[str, str]] = {
    "nl": {"console": "Beheerconsole", "review": "Beoordelen", "customers": "Klanten", "runs": "Runs",
           "logout": "Uitloggen", "login": "Inloggen", "user": "Gebruikersnaam", "password": "Wachtwoord",
           "login_failed": "Onbekende gebruiker of onjuist wachtwoord.", "match": "Zelfde klant",
           "no_match": "Verschillende klanten", "skip": "Overslaan", "no_pairs": "Er zijn geen paren te beoordelen.",
           "probability": "Kans", "explanation": "Toelichting", "record_a": "Record A", "record_b": "Record B",
           "search": "Zoeken", "search_hint": "naam, postcode + huisnummer, e-mail, telefoon of klantnummer",
           "no_results": "Niets gevonden.", "data_values": "Gegevens", "source": "Bron", "rule": "Regel",
           "members": "Bronrecords", "history": "Geschiedenis", "actions": "Acties", "unmerge": "Samenvoeging ongedaan maken",
           "split": "Dit bronrecord afsplitsen", "override": "Waarde vastzetten", "column": "Veld", "value": "Waarde",
           "save": "Opslaan", "status": "Status", "started": "Gestart", "finished": "Klaar", "counts": "Aantallen",
           "report": "Rapport", "data_docs": "Data Docs", "viewer_only": "U kunt kijken maar niets wijzigen.",
           "shortcuts": "Sneltoetsen: m = zelfde klant, n = verschillend, s = overslaan", "golden_id": "Klantnummer",
           "merged_ids": "Samengevoegde nummers", "language": "English", "decided": "Beslissing opgeslagen en toegepast.",
           "force": "Toch samenvoegen (force match)"},
    "en": {"console": "Steward console", "review": "Review", "customers": "Customers", "runs": "Runs",
           "logout": "Log out", "login": "Log in", "user": "User name", "password": "Password",
           "login_failed": "Unknown user or wrong password.", "match": "Same customer",
           "no_match": "Different customers", "skip": "Skip", "no_pairs": "No pairs to review.",
           "probability": "Probability", "explanation": "Explanation", "record_a": "Record A", "record_b": "Record B",
           "search": "Search", "search_hint": "name, postcode + number, e-mail, phone or golden id",
           "no_results": "Nothing found.", "data_values": "Values", "source": "Source", "rule": "Rule",
           "members": "Source records", "history": "History", "actions": "Actions", "unmerge": "Undo the merge",
           "split": "Split this source record out", "override": "Override a value", "column": "Field",
           "value": "Value", "save": "Save", "status": "Status", "started": "Started", "finished": "Finished",
           "counts": "Counts", "report": "Report", "data_docs": "Data Docs",
           "viewer_only": "You can look but not change anything.",
           "shortcuts": "Shortcuts: m = same customer, n = different, s = skip", "golden_id": "Golden id",
           "merged_ids": "Merged ids", "language": "Nederlands", "decided": "Decision stored and applied.",
           "force": "Join them anyway (force match)"},
}

_env = Environment(loader=FileSystemLoader(str(resources.files("cdq.web") / "templates")),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def language(request: Request) -> str:
    """``?lang=`` first, then the cookie, then Dutch."""
    wanted = request.query_params.get("lang") or request.cookies.get("cdq_lang") or "nl"
    return wanted if wanted in LABELS else "nl"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with the labels of the request's language and the security headers."""
    lang = language(request)
    html = _env.get_template(template).render(t=LABELS[lang], lang=lang, **context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LABELS:
        response.set_cookie("cdq_lang", lang, samesite="strict", httponly=True)
    return response


def require_csrf(expected: str | None, given: str | None) -> None:
    """403 unless the form's token equals the session's (constant-time)."""
    if not expected or not given or not hmac.compare_digest(str(expected).encode(), str(given).encode()):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page and try again")
