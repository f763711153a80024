"""Create (or reuse) an org, an admin user and a personal access token in a running BottleCRM database.

Run with the BottleCRM venv's python and its env.sh sourced:  python bootstrap.py EMAIL ORG_NAME
Prints shell-style lines ORG_ID=, USER_ID=, PROFILE_ID=, PAT= (a fresh org per test module isolates
tests completely: BottleCRM enforces row-level security per org).
"""

import os
import sys

import django

django.setup()
from common.models import Org, PersonalAccessToken, Profile, User  # noqa: E402

email, org_name = sys.argv[1], sys.argv[2]
user, _ = User.objects.get_or_create(email=email)
# default_country NL makes the API fill phone_e164 for national numbers ("06-...").
org = Org.objects.filter(name=org_name).first() or Org.objects.create(
    name=org_name, default_country=os.environ.get("BCRM_ORG_COUNTRY", "NL") or None)
profile, _ = Profile.objects.get_or_create(user=user, org=org, defaults={"role": "ADMIN"})
raw, _ = PersonalAccessToken.generate(profile, "cdq-e2e")  # scopes [] = unrestricted
print(f"ORG_ID={org.id}\nUSER_ID={user.id}\nPROFILE_ID={profile.id}\nPAT={raw}")
