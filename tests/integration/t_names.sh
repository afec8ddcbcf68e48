#!/bin/bash
# t_names.sh - hostile and unusual file names: traversal, separators, NUL,
# controls, direction overrides, length, NFC, duplicates.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
printf 'x' >"$T/f"

put() { # ENCODED-NAME
	api "$tok" PUT "/api/v1/transfers/$tid/files/$1" --path-as-is --data-binary "@$T/f" >/dev/null
	status
}

for bad in '..' '%2E%2E' '.' 'a%2Fb' '..%2F..%2Fetc%2Fpasswd' 'a%5Cb' 'a%00.txt' 'a%01b' \
	'a%0Ab' 'a%7F' 'invoice%E2%80%AEfdp.exe' '%C3%28' '%20lead' 'trail%20' 'dot.' \
	"$(printf 'a%.0s' $(seq 1 256))"; do
	st=$(put "$bad")
	assert_eq "$st" 400 "name $bad"
	assert_contains "$(cat "$T/body")" '"error"' "error body for $bad"
done
ok "hostile names are refused with 400"

st=$(put "../../../etc/passwd")
case "$st" in 400 | 404) ;; *) fail "raw traversal got $st" ;; esac
[ ! -e "$DATA/etc" ] && [ ! -e "$T/etc" ] || fail "something was written outside"
ok "raw ../ in the path does not escape"

assert_eq "$(put "$(printf 'a%.0s' $(seq 1 255))")" 201 "255-byte name"
# NFD (カ + combining voiced mark) is stored as NFC (ガ).
assert_eq "$(put '%E3%82%AB%E3%82%99.txt')" 201 "NFD name"
assert_eq "$(json 'j["name"]')" "ガ.txt" "NFC normalisation"
assert_eq "$(put '%E3%82%AC.txt')" 409 "NFC twin of the NFD name is a duplicate"
assert_eq "$(put 'dup.txt')" 201 "first dup.txt"
assert_eq "$(put 'dup.txt')" 409 "second dup.txt"
assert_eq "$(put '%E8%A6%8B%E7%A9%8D%E6%9B%B8%EF%BC%88%E6%A1%88%EF%BC%89.xlsx')" 201 "Japanese name"
ok "length limit, NFC and duplicates"
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging left behind"
okuru_stop
