"""Recognise the contact CSV layouts of Outlook (English and Dutch), Google Contacts and Thunderbird.

These exports have fixed, well-known headers, so the adapter decides their mapping itself
(:attr:`RawTable.premapped`) instead of trusting the generic synonym table: in an Outlook export
``Middle Name`` is where Dutch users type the tussenvoegsel, and ``Home Street`` holds street and number.
"""

from __future__ import annotations

from cdq.headers import header_key

#: layout -> (signature header keys, at least how many of them, [(canonical target, [header keys])]).
LAYOUTS: dict[str, tuple[set[str], int, list[tuple[str, list[str]]]]] = {
    "google": (
        {
            "givenname",
            "familyname",
            "email1value",
            "phone1value",
            "groupmembership",
            "address1formatted",
            "organization1name",
            "email1type",
            "phone1type",
            "labels",
        },
        3,
        [
            ("title", ["nameprefix"]),
            ("first_name", ["givenname", "firstname"]),
            ("infix", ["additionalname", "middlename"]),
            ("last_name", ["familyname", "lastname"]),
            ("full_name", ["name"]),
            ("gender", ["gender"]),
            ("birth_date", ["birthday"]),
            ("company_name", ["organization1name", "organizationname"]),
            ("email", ["email1value"]),
            ("other_emails", ["email2value"]),
            ("phone", ["phone1value"]),
            ("other_phones", ["phone2value"]),
            ("street_and_number", ["address1street"]),
            ("address_line", ["address1formatted"]),
            ("postcode", ["address1postalcode"]),
            ("city", ["address1city"]),
            ("country", ["address1country"]),
        ],
    ),
    "outlook": (
        {
            "emailaddress",
            "email2address",
            "homestreet",
            "businessstreet",
            "businessphone",
            "mobilephone",
            "homepostalcode",
            "businesspostalcode",
            "middlename",
            "jobtitle",
            "emaildisplayname",
        },
        2,
        [
            ("title", ["title"]),
            ("first_name", ["firstname"]),
            ("infix", ["middlename"]),
            ("last_name", ["lastname"]),
            ("gender", ["gender"]),
            ("birth_date", ["birthday"]),
            ("company_name", ["company"]),
            ("email", ["emailaddress"]),
            ("other_emails", ["email2address"]),
            ("phone", ["homephone", "businessphone", "primaryphone"]),
            ("mobile", ["mobilephone"]),
            ("street_and_number", ["homestreet", "businessstreet"]),
            ("postcode", ["homepostalcode", "businesspostalcode"]),
            ("city", ["homecity", "businesscity"]),
            ("country", ["homecountryregion", "businesscountryregion"]),
        ],
    ),
    "outlook_nl": (
        {
            "middelstenaam",
            "huisadresstraat",
            "huisadrespostcode",
            "huisadresplaats",
            "emailadres2",
            "telefoonopwerk",
            "telefoonthuis",
            "mobieletelefoon",
            "werkadresstraat",
        },
        2,
        [
            ("title", ["titel"]),
            ("first_name", ["voornaam"]),
            ("infix", ["middelstenaam"]),
            ("last_name", ["achternaam"]),
            ("birth_date", ["verjaardag"]),
            ("company_name", ["bedrijf"]),
            ("email", ["emailadres"]),
            ("other_emails", ["emailadres2"]),
            ("phone", ["telefoonthuis", "telefoonopwerk"]),
            ("mobile", ["mobieletelefoon"]),
            ("street_and_number", ["huisadresstraat", "werkadresstraat"]),
            ("postcode", ["huisadrespostcode", "werkadrespostcode"]),
            ("city", ["huisadresplaats", "werkplaats"]),
            ("country", ["landregiothuis", "landregiowerk"]),
        ],
    ),
    "thunderbird": (
        {
            "primaryemail",
            "secondaryemail",
            "homezipcode",
            "workzipcode",
            "mobilenumber",
            "homeaddress",
            "displayname",
            "screenname",
        },
        4,
        [
            ("first_name", ["firstname"]),
            ("last_name", ["lastname"]),
            ("full_name", ["displayname"]),
            ("email", ["primaryemail"]),
            ("other_emails", ["secondaryemail"]),
            ("phone", ["homephone", "workphone"]),
            ("mobile", ["mobilenumber"]),
            ("street_and_number", ["homeaddress", "workaddress"]),
            ("postcode", ["homezipcode", "workzipcode"]),
            ("city", ["homecity", "workcity"]),
            ("country", ["homecountry", "workcountry"]),
            ("company_name", ["organization"]),
        ],
    ),
}


def detect_layout(headers: list[str]) -> str | None:
    """The known contact-export layout these headers come from, or ``None``.

    Examples:
        >>> detect_layout(["First Name", "Middle Name", "Last Name", "E-mail Address", "Home Street"])
        'outlook'
        >>> detect_layout(["Name", "Given Name", "Family Name", "E-mail 1 - Value"])
        'google'
        >>> detect_layout(["Klantnummer", "Naam"]) is None
        True
    """
    keys = {header_key(h) for h in headers}
    best, best_hits = None, 0
    for layout, (signature, minimum, _) in LAYOUTS.items():
        hits = len(keys & signature)
        if hits >= minimum and hits > best_hits:
            best, best_hits = layout, hits
    return best


def premap(headers: list[str]) -> tuple[dict[str, str], str | None]:
    """``({header: canonical target}, layout)`` for a recognised layout, else ``({}, None)``.

    Examples:
        >>> mapped, layout = premap(["First Name", "Middle Name", "Last Name", "E-mail Address"])
        >>> layout, mapped["Middle Name"], mapped["E-mail Address"]
        ('outlook', 'infix', 'email')
    """
    layout = detect_layout(headers)
    if layout is None:
        return {}, None
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    chosen: dict[str, str] = {}
    for target, keys in LAYOUTS[layout][2]:
        header = next((by_key[k] for k in keys if k in by_key and by_key[k] not in chosen), None)
        if header is not None:
            chosen[header] = target
    return {h: chosen[h] for h in headers if h in chosen}, layout
