#!/usr/bin/env bash
# Contact + account CRUD against a running BottleCRM, using $BCRM_DIR/creds.env. Needs curl, jq.
set -uo pipefail
BCRM_DIR=${BCRM_DIR:-/var/lib/cdq-bottlecrm}  # root-owned state, not a shared temp dir
. "$BCRM_DIR/creds.env"
B=$BCRM_URL; A=(-H "Authorization: Bearer $PAT" -H "Content-Type: application/json")
pass=0; fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: got '$2' want '$3'"; fi; }
call() { curl -sS -o /tmp/bcrm_body.$$ -w '%{http_code}' "${A[@]}" "$@"; }   # prints HTTP code
body() { cat /tmp/bcrm_body.$$; }
sfx=$RANDOM$RANDOM

# accounts
check "account create" "$(call -X POST "$B/api/accounts/" -d "{\"name\":\"Acme $sfx BV\",\"city\":\"Utrecht\",\"country\":\"NL\"}")" 200
AID=$(body | jq -r .id)
check "account dup name (case-insensitive)" "$(call -X POST "$B/api/accounts/" -d "{\"name\":\"ACME $sfx bv\"}")" 400
check "account dup message" "$(body | jq -r '.errors.name[0]')" "Account already exists with this name"
check "account patch" "$(call -X PATCH "$B/api/accounts/$AID/" -d '{"city":"Zwolle"}')" 200
call "$B/api/accounts/$AID/" >/dev/null; check "account city" "$(body | jq -r .account_obj.city)" Zwolle
call "$B/api/accounts/?name=$sfx" >/dev/null; check "account list" "$(body | jq -r .active_accounts.open_accounts_count)" 1

# contacts
check "contact create" "$(call -X POST "$B/api/contacts/" -d "{\"first_name\":\"Jan\",\"last_name\":\"de Vries\",\"email\":\"jan.$sfx@example.nl\",\"phone\":\"+31612345678\",\"city\":\"Amsterdam\",\"country\":\"NL\",\"account\":\"$AID\",\"source_ref\":\"src-$sfx\"}")" 200
CID=$(body | jq -r .id)
check "contact dup email" "$(call -X POST "$B/api/contacts/" -d "{\"first_name\":\"J\",\"last_name\":\"V\",\"email\":\"JAN.$sfx@EXAMPLE.NL\"}")" 400
check "contact missing last_name" "$(call -X POST "$B/api/contacts/" -d '{"first_name":"X"}')" 400
check "contact bad country" "$(call -X POST "$B/api/contacts/" -d '{"first_name":"X","last_name":"Y","country":"Netherlands"}')" 400
call "$B/api/contacts/?email=jan.$sfx@example.nl" >/dev/null
check "contact list by email" "$(body | jq -r '.count')" 1
check "contact linked account" "$(body | jq -r '.results[0].account_detail.id')" "$AID"
check "contact patch" "$(call -X PATCH "$B/api/contacts/$CID/" -d '{"city":"Den Haag","title":"Inkoper"}')" 200
call "$B/api/contacts/$CID/" >/dev/null
check "contact city" "$(body | jq -r .contact_obj.city)" "Den Haag"
check "contact email kept" "$(body | jq -r .contact_obj.email)" "jan.$sfx@example.nl"
check "contact delete" "$(call -X DELETE "$B/api/contacts/$CID/")" 200
check "contact gone" "$(call "$B/api/contacts/$CID/")" 404
check "account delete" "$(call -X DELETE "$B/api/accounts/$AID/")" 200
check "account gone" "$(call "$B/api/accounts/$AID/")" 404
rm -f /tmp/bcrm_body.$$
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
