"""Mailbox import: every real mbox/eml/msg under ../shared/data/real_files, plus hand-made broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdq.errors import InputError
from cdq.importers.mailbox import parse_addresses, read_mailbox, split_mbox
from cdq.staging import import_inputs

DATA = Path(__file__).parent / "data" / "import_mail"

#: path -> (messages read, distinct correspondents, senders skipped, {address: display name expected}).
REAL_MAIL = {
    "mbox/gmail_takeout_style.mbox": (4, 2, 0, {"sender@example.com": "Sender", "recipient@example.com": "Recipient"}),
    "mbox/mboxrd_escaped_from.mbox": (2, 2, 0, {"author@example.com": "Author"}),
    # jwz@netscape.com owns the mailbox (16 of 29 messages): he and 3 colleagues at netscape.com are skipped
    "mbox/netscape_1996_content_length.mbox": (29, 21, 6, {"chrlsim@futureone.com": "Chuck Simmons"}),
    # tb@tester.local receives all 3 messages: the owner, skipped; the 3 rc.net senders stay
    "mbox/roundcube_import_crlf_mboxo.mbox": (3, 3, 0, {"test1@rc.net": None, "test2@rc.net": None}),
    "mbox/thunderbird_local_folder_movemailspool.mbox": (3, 5, 0, {"example@example.com": "Some User"}),
    "mbox/thunderbird_mbox_modern_space_quoting.mbox": (2, 2, 0, {"recipient@example.com": "Recipient"}),
    "mbox/unmunged_from_lines_bom.mbox": (2, 1, 0, {"jeff@xamarin.com": "Jeffrey Stedfast"}),
    "eml/android_mms_gateway.eml": (1, 2, 0, {"david@mydomain.com": None}),
    "eml/apple_mail_iso8859-1_q_subject.eml": (1, 1, 0, {"jeff@37signals.com": "Jeffrey Hardy"}),
    "eml/apple_mail_utf8_long_subject_attachment.eml": (1, 2, 0, {"raasdnil@gmail.com": "Mikel Lindsaar"}),
    "eml/at_sign_in_display_names_multi_recipients.eml": (1, 5, 0, {"raasdnil@gmail.com": "Mikel@Lindsaar",
                                                                    "test@lindsaar.net": "Mikel Lindsaar",
                                                                    "jack@lindsar.com": None}),
    "eml/badly_folded_headers.eml": (1, 2, 0, {"recipient@example.com": "Recipient with spaces"}),
    "eml/docomo_shift_jis.eml": (1, 2, 0, {"xxxxxxx@docomo.ne.jp": None}),
    "eml/euc_kr_q_subject.eml": (1, 2, 0, {"jamis@37signals.com": "Jamis Buck"}),
    "eml/gmail_invite_iso8859-1_display_name.eml": (1, 2, 1, {"a.b@gmail.com": "Nicolas Fouché"}),
    "eml/no_charset_windows1252_spanish.eml": (1, 1, 0, {"test@example.com": None}),
    "eml/outlook2000_iso8859-1_display_name.eml": (1, 2, 0, {"mueller@example.com": "Heinz Müller"}),
    "eml/outlook_express6_illegal_boundary.eml": (1, 2, 0, {"email_test@me.nowhere": "Mikel Lindsaar"}),
    "eml/outlook_meeting_invite_thread_index.eml": (1, 2, 0, {"homer@example.org": "Homer"}),
    "eml/roundcube_encoded_attachment_names.eml": (1, 2, 0, {"thomas@roundcube.net": "Thomas B."}),
    "eml/roundcube_rfc2231_boundary_cc_list.eml": (1, 15, 0, {"test9@domain.tld": None}),
    "eml/thunderbird106_reply_format_flowed.eml": (1, 2, 0, {"mikel@xxxx.net": "Mikel Lindsaar"}),
    "eml/thunderbird31_iso2022jp_subject.eml": (1, 1, 0, {"x@x.com": "Jeffrey Stedfast"}),
    "eml/thunderbird_utf8_q_display_name_with_comma.eml": (1, 2, 0, {"K.Hoerst@invalid": "Hörst, Kenny"}),
    "eml/utf8_b_encoded_subject.eml": (1, 2, 0, {"marge@example.com": "Marge"}),
    "msg/new_outlook_2025_test_message.msg": (1, 1, 0, {"ku@digitaldolphins.jp": None}),
    "msg/outlook_200_recipients.msg": (1, 200, 0, {"xmailuser200@xmailserver.test": None}),
    "msg/outlook_at_sign_in_from_display_name.msg": (1, 2, 0, {"bogus@domain.com": None,
                                                             "recipient@domain.com": "recipient"}),
    "msg/outlook_cjk_body.msg": (1, 0, 0, {}),
    "msg/outlook_non_unicode_mail.msg": (1, 1, 0, {"xmailuser2@xmailserver.test": None}),
    "msg/outlook_strange_date.msg": (1, 1, 0, {"time2talk@online-convert.com": None}),
    "msg/outlook_to_cc_multiple.msg": (1, 6, 0, {"egi.han.tzu@gmail.com": None}),
    "msg/outlook_unicode_nordic.msg": (1, 1, 0, {"doesnotexist@doesnt.com": None}),
}
#: Outlook contact items: path -> expected values of the one contact row.
REAL_CONTACTS = {
    "msg/outlook2003_contact_ansi.msg": {"last_name": "contact", "email": "email@emailland.com",
                                         "mobile": "(mobile) 0404 123 456"},
    "msg/outlook2003_contact_unicode.msg": {"last_name": "contact", "email": "email@emailland.com"},
    "msg/outlook_contact_all_fields.msg": {"first_name": "First Name", "last_name": "Last Name",
                                           "company_name": "Company", "phone": "+1 (2) 3 x 4",
                                           "mobile": "+4 (5) 6 x 7", "street": "Street", "postcode": "ZIP"},
    "msg/outlook_contact_ansi_cp932.msg": {"last_name": "イグザンプル", "first_name": "コム",
                                           "company_name": "My work company", "phone": "06-0001-0002"},
    "msg/outlook_contact_unicode.msg": {"last_name": "イグザンプル", "email": "test@example.com",
                                        "mobile": "080-0001-0001"},
}
DIST_LIST = "msg/outlook_contact_group_distribution_list.msg"


def test_every_real_mail_file_is_listed(real_files):
    found = {f"{d}/{p.name}" for d in ("mbox", "eml", "msg") for p in (real_files / d).iterdir()}
    assert found == set(REAL_MAIL) | set(REAL_CONTACTS) | {DIST_LIST}


@pytest.mark.parametrize("name", sorted(REAL_MAIL))
def test_real_mail(real_files, name):
    messages, people, skipped, names = REAL_MAIL[name]
    table = read_mailbox(real_files / name)[0]
    assert (table.notes["messages"], len(table.frame), table.notes["senders_skipped"]) == (messages, people, skipped)
    # skipped senders and own addresses are quarantined with their reason: rows in = staged + quarantined
    assert table.rows_in == len(table.frame) + len(table.quarantine)
    assert len(table.quarantine) == skipped + table.notes["own_addresses_skipped"]
    assert table.rows == list(range(1, people + 1))
    if people:
        emails = table.frame["email"].tolist()
        assert len({e.lower() for e in emails}) == len(emails)
        got = dict(zip(emails, table.frame.get("full_name", [None] * people)))
        assert {e: got[e] for e in names} == names


@pytest.mark.parametrize("name", sorted(REAL_CONTACTS))
def test_real_outlook_contact(real_files, name):
    table = read_mailbox(real_files / name)[0]
    assert (table.rows_in, len(table.frame)) == (1, 1)
    row = table.frame.iloc[0]
    assert {k: row.get(k) for k in REAL_CONTACTS[name]} == REAL_CONTACTS[name]


def test_distribution_list_members_typed_in_are_read(real_files):
    # the group's two one-off members (name + address typed into the group) are contacts of their own
    table = read_mailbox(real_files / DIST_LIST)[0]
    assert (table.rows_in, len(table.frame), len(table.quarantine)) == (2, 2, 0)
    assert table.frame[["full_name", "email"]].values.tolist() == [
        ["Contact Middle Last Suffix", "email@gmail.com"], ["Display Name", "email@domain.com"]]


def test_distribution_list_without_readable_members_is_quarantined_clearly(tmp_path, real_files):
    data = (real_files / DIST_LIST).read_bytes().replace(bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402"), b"\0" * 16)
    path = tmp_path / "group.msg"
    path.write_bytes(data)
    table = read_mailbox(path)[0]
    assert (table.rows_in, len(table.frame)) == (1, 0)
    assert table.quarantine["reason_code"].tolist() == ["MSG_DISTLIST_UNREADABLE"]
    assert "export the group's members" in table.quarantine["detail"].iat[0]


def test_latest_date_and_dedup_across_messages(real_files):
    table = read_mailbox(real_files / "mbox/netscape_1996_content_length.mbox")[0]
    frame = table.frame.set_index("email")
    assert frame.loc["smime-dev@RSA.COM", "source_updated_at"] == "1996-11-21T16:10:23-05:00"  # 9 messages
    assert frame.loc["rosenqui@strataware.com", "mail_roles"] == "cc,from"
    # the owner and the owner's colleagues are not customers
    assert table.notes["own_addresses_skipped"] == 4
    assert not frame.index.str.lower().str.endswith("@netscape.com").any()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    "name, people, own",
    [
        ("mail", 5, 4),  # advisers a.bakker, p.jansen, r.elamrani, s.visser at adviespunt-voorbeeld.nl
        ("mailbox.mbox", 8, 3),  # p.jansen (8 of 13 messages), m.devries, s.visser
    ],
)
def test_own_organisation_addresses_are_not_customers(name, people, own):
    table = read_mailbox(FIXTURES / name)[0]
    assert (len(table.frame), table.notes["own_addresses_skipped"]) == (people, own)
    assert (table.quarantine["reason_code"] == "MAIL_OWN_ADDRESS").sum() == own
    emails = table.frame["email"].str.lower()
    assert not emails.str.endswith("@adviespunt-voorbeeld.nl").any()
    assert emails.str.contains("@").all()


def _box(messages: list[tuple[str, str]]) -> bytes:
    return b"".join(
        f"From x@y Mon Jan 1 00:00:00 2024\nFrom: {a}\nTo: {b}\nDate: Mon, 1 Jan 2024 10:00:00 +0100\n\nhoi\n".encode()
        for a, b in messages
    )


@pytest.mark.parametrize(
    "messages, kept",
    [
        # owner at a public provider: only the owner is skipped, not the other gmail.com customers
        ([("a@ziggo.nl", "me@gmail.com"), ("b@gmail.com", "me@gmail.com"), ("me@gmail.com", "c@home.nl")],
         ["a@ziggo.nl", "b@gmail.com", "c@home.nl"]),
        # owner at an organisation domain: colleagues there are skipped as well
        ([("a@ziggo.nl", "me@bureau.nl"), ("b@gmail.com", "me@bureau.nl"), ("me@bureau.nl", "c@home.nl"),
          ("collega@bureau.nl", "d@planet.nl")], ["a@ziggo.nl", "b@gmail.com", "c@home.nl", "d@planet.nl"]),
        # fewer than 3 messages: no owner can be found
        ([("a@ziggo.nl", "me@bureau.nl"), ("b@gmail.com", "me@bureau.nl")], ["a@ziggo.nl", "me@bureau.nl", "b@gmail.com"]),
        # one conversation: both take part in every message, nobody is skipped
        ([("a@ziggo.nl", "b@bureau.nl")] * 3, ["a@ziggo.nl", "b@bureau.nl"]),
    ],
)
def test_owner_detection(tmp_path, messages, kept):
    path = tmp_path / "box.mbox"
    path.write_bytes(_box(messages))
    table = read_mailbox(path)[0]
    assert table.frame["email"].tolist() == kept


def test_folder_of_eml_and_msg(real_files, tmp_path):
    for name in ("eml/utf8_b_encoded_subject.eml", "eml/outlook_meeting_invite_thread_index.eml",
                 "msg/outlook_to_cc_multiple.msg", "msg/outlook_contact_unicode.msg"):
        shutil.copy(real_files / name, tmp_path / Path(name).name)
    table = read_mailbox(tmp_path)[0]
    assert table.notes["messages"] == 3
    assert table.rows_in == 1 + 4 + 6  # one contact item, homer+marge (both files), six Outlook addresses
    assert table.frame["email"].str.lower().is_unique


def test_hand_made_mbox_skips_bulk_and_noreply():
    table = read_mailbox(DATA / "bulk_and_noreply.mbox")[0]
    # info@bedrijf.example receives every message: the mailbox owner, not a customer
    assert table.notes == {"messages": 4, "correspondents": 1, "senders_skipped": 3, "own_addresses_skipped": 1}
    assert "info@bedrijf.example" not in set(table.frame["email"])
    frame = table.frame.set_index("email")
    assert frame.loc["jan@example.nl", "full_name"] == "Vries, Jan de"
    assert frame.loc["jan@example.nl", "source_updated_at"] == "2024-03-02T10:00:00+01:00"
    assert "nieuwsbrief@shop.example" not in frame.index


@pytest.mark.parametrize("name, problem", [
    ("not_a_mailbox.mbox", "not an mbox mailbox"),
    ("binary_garbage.eml", "not an e-mail message"),
    ("corrupt.msg", "not a readable Outlook .msg file"),
])
def test_corrupt_files_are_input_errors(name, problem):
    with pytest.raises(InputError, match=problem):
        read_mailbox(DATA / name)


def test_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no .eml or .msg files"):
        read_mailbox(tmp_path)


@pytest.mark.parametrize("header, expected", [
    ('"Vries, Jan de" <jan@example.nl>', [("Vries, Jan de", "jan@example.nl")]),
    ("=?UTF-8?Q?H=C3=B6rst=2C_Kenny?= <k@x.nl>, b@x.nl", [("Hörst, Kenny", "k@x.nl"), (None, "b@x.nl")]),
    ("=?windows-1252?Q?Ren=E9e?= <r@x.nl>", [("Renée", "r@x.nl")]),
    ("=?x-unknown?Q?Ren=E9e?= <r@x.nl>", [("Renée", "r@x.nl")]),
    ("Team: a@x.nl, b@x.nl;", [(None, "a@x.nl"), (None, "b@x.nl")]),
    ("undisclosed-recipients:;", []),
    ("<mailto:c@x.nl>", [(None, "c@x.nl")]),
])
def test_parse_addresses(header, expected):
    assert parse_addresses(header) == expected


def test_split_mbox_keeps_unescaped_from_lines_in_body():
    box = b"From a@b.nl Mon Jan  1 00:00:00 2024\r\nFrom: a@b.nl\r\n\r\nFrom Russia with love\r\nYear: 1963\r\n"
    assert len(split_mbox(box)) == 1


def test_staging_and_cli(real_files, tmp_path):
    from cdq.cli.main import app

    mbox = real_files / "mbox/gmail_takeout_style.mbox"
    result = import_inputs([mbox])
    assert sorted(result.staging["email"]) == ["recipient@example.com", "sender@example.com"]
    assert result.tables[0].notes["messages"] == 4
    out = tmp_path / "out.csv"
    cli = CliRunner().invoke(app, ["import", str(mbox), "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    assert "2 rows in = 2 staged + 0 quarantined" in cli.output
    bad = CliRunner().invoke(app, ["import", str(DATA / "corrupt.msg"), "--out", str(out)])
    assert bad.exit_code == 2 and "not a readable Outlook .msg file" in bad.output
