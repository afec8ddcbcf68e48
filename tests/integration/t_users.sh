#!/bin/bash
# t_users.sh - administration of staff accounts: okuructl user passwd,
# totp-reset, disable, enable, unlock, cert, end-sessions, list and show,
# with their audit records and the sessions they end; the admin API
# /api/v1/admin/users (admins only) with its statuses; a disabled user's
# API token is refused.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
root=$(okuru_user root admin)
alice=$(okuru_user alice sender)
bob=$(okuru_user bob sender)
audit=$(okuru_user audit auditor)
DB="$DATA/okuru.db"

ctl() { "$OKURUCTL" -c "$CONF" user "$@"; }
# add_session NAME ID - a live session row for user NAME
add_session() {
	sqlq "$DB" "INSERT INTO sessions (id, user_id, hash, method, stage, created, last_seen, ip,
		user_agent) SELECT :id, id, zeroblob(32), 'password', 'full', 1, 1, '127.0.0.1', 't'
		FROM users WHERE name = :name" id="$2" name="$1"
}
ended() { sqlq "$DB" "SELECT ended != 0 FROM sessions WHERE id = :id" id="$1"; }
col() { sqlq "$DB" "SELECT $2 FROM users WHERE name = :n" n="$1"; } # NAME COLUMN (ours)
# last_rec - the newest audit record: event|actor_kind|object_id|outcome
last_rec() { sqlq "$DB" "SELECT event, actor_kind, object_id, outcome FROM audit ORDER BY seq DESC LIMIT 1"; }
last_detail() { sqlq "$DB" "SELECT json_extract(detail, :p) FROM audit ORDER BY seq DESC LIMIT 1" p="$1"; }
nrec() { sqlq "$DB" "SELECT count(*) FROM audit"; }
# pw_ok NAME PASSWORD - libsodium itself says whether the stored hash is of PASSWORD
pw_ok() {
	$PY -c 'import ctypes, ctypes.util, sys
s = ctypes.CDLL(ctypes.util.find_library("sodium")); s.sodium_init()
h, p = sys.argv[1].encode(), sys.argv[2].encode()
sys.exit(0 if s.crypto_pwhash_str_verify(h, p, ctypes.c_ulonglong(len(p))) == 0 else 1)' \
		"$(col "$1" pw_hash)" "$2"
}

# ---- user add: the shared rules ----
ctl add 'bad name' --email x@bank.example --role sender >/dev/null 2>"$T/err" && fail "bad name accepted"
assert_contains "$(cat "$T/err")" "name must be 1-64 characters" "bad name"
ctl add carl --email not-an-address --role sender >/dev/null 2>"$T/err" && fail "bad e-mail accepted"
assert_contains "$(cat "$T/err")" "email must be" "bad e-mail"
ctl add carl --email carl@bank.example --role boss >/dev/null 2>"$T/err" && fail "bad role accepted"
assert_contains "$(cat "$T/err")" "role must be" "bad role"
ctl add carl --email carl@bank.example --role sender --group 'a b' >/dev/null 2>"$T/err" &&
	fail "bad group accepted"
assert_contains "$(cat "$T/err")" "groups must" "bad group"
# shellcheck disable=SC2046
ctl add carl --email carl@bank.example --role sender $(for i in $(seq 1 33); do echo --group "g$i"; done) \
	>/dev/null 2>"$T/err" && fail "33 groups accepted"
assert_contains "$(cat "$T/err")" "at most 32 groups" "33 groups"
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM users WHERE name = 'carl'")" 0 "nothing stored"
ctl add carl --email carl@bank.example --role approver --group tokyo --group osaka >"$T/out"
assert_contains "$(cat "$T/out")" "user carl is in group osaka" "groups printed"
assert_eq "$(sqlq "$DB" "SELECT event, actor_kind, object_id, json_extract(detail, '\$.groups')
	FROM audit WHERE event = 'user.added' AND object_id = 'carl'")" \
	'user.added|admin-cli|carl|["tokyo","osaka"]' "user.added recorded as before"
assert_eq "$(sqlq "$DB" "SELECT group_concat(grp) FROM (SELECT grp FROM user_groups g JOIN users u
	ON u.id = g.user_id WHERE u.name = 'carl' ORDER BY grp)")" "osaka,tokyo" "groups stored"
ctl add carl --email carl@bank.example --role sender >/dev/null 2>"$T/err" && fail "duplicate user"
assert_contains "$(cat "$T/err")" "already exists" "duplicate user"
ok "user add: the shared field rules, groups and user.added in one transaction"

# ---- passwd ----
n0=$(nrec)
printf 'short\n' | ctl passwd alice >/dev/null 2>"$T/err" && fail "short password accepted"
assert_contains "$(cat "$T/err")" "too short (at least 12 characters)" "short password"
printf '%0300d\n' 0 | ctl passwd alice >/dev/null 2>"$T/err" && fail "long password accepted"
assert_contains "$(cat "$T/err")" "longer than 256 bytes" "long password"
printf 'tab\there long enough\n' | ctl passwd alice >/dev/null 2>"$T/err" && fail "control character"
assert_contains "$(cat "$T/err")" "control character" "control character"
ctl passwd alice </dev/null >/dev/null 2>"$T/err" && fail "empty input accepted"
assert_contains "$(cat "$T/err")" "no password on standard input" "empty input"
printf 'correct horse battery\n' | ctl passwd nobody >/dev/null 2>"$T/err" && fail "unknown user"
assert_contains "$(cat "$T/err")" "no such user: nobody" "unknown user"
assert_eq "$(col alice pw_hash)" "" "no password stored by the refusals"
assert_eq "$(nrec)" "$n0" "nothing recorded by the refusals"
add_session alice s1
add_session alice s2
add_session root s3
printf 'correct horse battery\n' | ctl passwd alice >"$T/out"
assert_eq "$(cat "$T/out")" "password set for alice (2 sessions ended)" "passwd output"
assert_contains "$(col alice pw_hash)" '$argon2id$' "an Argon2id string"
pw_ok alice 'correct horse battery' || fail "the stored hash does not verify the password"
pw_ok alice 'correct horse batter' && fail "the stored hash verifies a wrong password"
[ "$(col alice pw_changed)" -gt 0 ] || fail "pw_changed not set"
assert_eq "$(ended s1)$(ended s2)$(ended s3)" "110" "alice's sessions ended, root's not"
assert_eq "$(last_rec)" "user.password_set|admin-cli|alice|ok" "user.password_set"
assert_eq "$(last_detail '$.sessions_ended')" 2 "sessions_ended in the record"
# The last line without its newline is the password too; a password of 日本語 counts characters.
printf 'パスワードは十二文字以上です' | ctl passwd alice >/dev/null
pw_ok alice 'パスワードは十二文字以上です' || fail "a password without a newline"
ok "passwd: the rules, the hash, sessions ended, user.password_set"

# tty_passwd PW1 PW2 NAME - okuructl user passwd NAME on a terminal, answering
# its two prompts; prints everything the terminal showed
tty_passwd() {
	$PY - "$1" "$2" "$OKURUCTL" -c "$CONF" user passwd "$3" <<'PYEOF'
import os, pty, sys
pw1, pw2, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out = b""
def read_until(s):
    global out
    while s is None or s not in out:
        try:
            b = os.read(fd, 1024)
        except OSError:
            return
        if not b:
            return
        out += b
read_until(b"New password for ")
os.write(fd, pw1.encode() + b"\n")
read_until(b"Again: ")
os.write(fd, pw2.encode() + b"\n")
read_until(None)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
PYEOF
}
tty_passwd 'typed on a terminal' 'typed on a terminal' alice >"$T/out" || fail "tty passwd: $(cat "$T/out")"
assert_contains "$(cat "$T/out")" "password set for alice" "tty passwd output"
grep -q 'typed on' "$T/out" && fail "the password was echoed: $(cat "$T/out")"
pw_ok alice 'typed on a terminal' || fail "the password typed on a terminal"
n0=$(nrec)
tty_passwd 'typed on a terminal 2' 'typed on a terminal 3' alice >"$T/out" && fail "two different passwords"
assert_contains "$(cat "$T/out")" "the two passwords differ; nothing changed" "mismatch"
pw_ok alice 'typed on a terminal' || fail "password changed by a mismatch"
assert_eq "$(nrec)" "$n0" "nothing recorded by a mismatch"
ok "passwd on a terminal: asked twice, not echoed, a mismatch changes nothing"

# ---- totp-reset ----
sqlq "$DB" "UPDATE users SET totp_wrapped = zeroblob(72), totp_key_id = 'k1',
	totp_pending = zeroblob(72), totp_pending_key_id = 'k1', totp_last_step = 99
	WHERE name = 'alice'"
ctl show alice >"$T/out"
assert_contains "$(cat "$T/out")" "totp enrolled" "show: enrolled"
add_session alice s4
ctl totp-reset alice >"$T/out"
assert_contains "$(cat "$T/out")" "(1 sessions ended)" "totp-reset output"
assert_eq "$(col alice "totp_wrapped IS NULL, totp_key_id, totp_pending IS NULL,
	totp_pending_key_id, totp_last_step")" "1||1||0" "TOTP secret and enrolment gone"
assert_eq "$(ended s4)" 1 "session ended by totp-reset"
assert_eq "$(last_rec)" "user.totp_reset|admin-cli|alice|ok" "user.totp_reset"
assert_eq "$(last_detail '$.was_enrolled')" 1 "was_enrolled in the record"
ctl show alice >"$T/out"
assert_contains "$(cat "$T/out")" "totp none" "show: not enrolled"
ctl totp-reset nobody >/dev/null 2>&1 && fail "totp-reset of an unknown user"
ok "totp-reset: secret and enrolment cleared, sessions ended, user.totp_reset"

# ---- unlock ----
sqlq "$DB" "UPDATE users SET failed_logins = 5, locked_until = :t WHERE name = 'alice'" \
	t=$(($(date +%s) + 600))
ctl show alice >"$T/out"
assert_contains "$(cat "$T/out")" "failed-logins 5" "show: failed logins"
grep -q '^locked-until 20' "$T/out" || fail "show: locked until: $(cat "$T/out")"
ctl unlock alice >/dev/null
assert_eq "$(col alice "failed_logins, locked_until")" "0|0" "unlocked"
assert_eq "$(last_rec)" "user.unlocked|admin-cli|alice|ok" "user.unlocked"
assert_eq "$(last_detail '$.failed_logins')" 5 "failed_logins in the record"
ok "unlock: failed logins and lock cleared, user.unlocked"

# ---- cert ----
dn='CN=alice,O=Example Bank,C=JP'
ctl cert alice "$dn" >/dev/null
assert_eq "$(col alice cert_dn)" "$dn" "DN stored"
assert_eq "$(last_rec)" "user.cert_set|admin-cli|alice|ok" "user.cert_set"
assert_eq "$(last_detail '$.dn')" "$dn" "dn in the record"
n0=$(nrec)
ctl cert root "$dn" >/dev/null 2>"$T/err" && fail "a DN mapped twice"
assert_contains "$(cat "$T/err")" "mapped to another user" "DN taken"
ctl cert root 'no equals sign' >/dev/null 2>"$T/err" && fail "a DN without ="
ctl cert root "$(printf 'CN=a\001b')" >/dev/null 2>"$T/err" && fail "a DN with a control character"
ctl cert root "CN=$(printf '%01100d' 0)" >/dev/null 2>"$T/err" && fail "a DN over 1024 bytes"
assert_eq "$(col root cert_dn)" "" "root's DN unchanged"
assert_eq "$(nrec)" "$n0" "nothing recorded by the refusals"
ctl show alice >"$T/out"
assert_contains "$(cat "$T/out")" "certificate $dn" "show: DN"
ok "cert: set, unique among enabled users, bounded, user.cert_set"

# ---- disable / enable ----
add_session alice s5
ctl disable alice >"$T/out"
assert_eq "$(cat "$T/out")" "user alice disabled (1 sessions ended)" "disable output"
assert_eq "$(col alice disabled)" 1 "disabled"
assert_eq "$(ended s5)" 1 "session ended by disable"
assert_eq "$(last_rec)" "user.disabled|admin-cli|alice|ok" "user.disabled"
ctl disable alice >/dev/null 2>"$T/err" && fail "disabled twice"
assert_contains "$(cat "$T/err")" "already disabled" "disabled twice"
# A disabled user's DN may go to someone else; then alice cannot come back with it.
ctl cert root "$dn" >/dev/null
ctl enable alice >/dev/null 2>"$T/err" && fail "enabled with a DN someone else has"
assert_contains "$(cat "$T/err")" "another enabled user has this user's certificate subject" "DN clash"
assert_eq "$(col alice disabled)" 1 "still disabled"
ctl cert root --clear >"$T/out"
assert_eq "$(cat "$T/out")" "user root has no certificate subject" "cert --clear output"
assert_eq "$(last_rec)" "user.cert_cleared|admin-cli|root|ok" "user.cert_cleared"
assert_eq "$(last_detail '$.previous')" "$dn" "previous DN in the record"
ctl show alice >"$T/out"
assert_contains "$(cat "$T/out")" "state disabled" "show: a disabled user is shown"
ok "disable: sessions ended, user.disabled; enable refused while the DN is taken"

# ---- end-sessions ----
add_session bob s6
add_session bob s7
ctl end-sessions bob >"$T/out"
assert_eq "$(cat "$T/out")" "2 sessions of bob ended" "end-sessions output"
assert_eq "$(ended s6)$(ended s7)" 11 "sessions ended"
assert_eq "$(last_rec)" "user.sessions_ended|admin-cli|bob|ok" "user.sessions_ended"
ok "end-sessions"

# ---- list ----
add_session root s8
ctl list >"$T/out"
head -n 1 "$T/out" | grep -q '^NAME  *ROLE  *E-MAIL  *GROUPS  *STATE  *PASSWORD  *TOTP' ||
	fail "list header: $(head -n 1 "$T/out")"
assert_eq "$(awk 'NR > 1 { print $1 }' "$T/out" | tr '\n' ' ')" "alice audit bob carl root " "list rows"
grep -q '^alice  *sender  *alice@bank.example  *-  *disabled  *yes  *none ' "$T/out" ||
	fail "alice's row: $(grep '^alice' "$T/out")"
grep -q '^carl  *approver  *carl@bank.example  *osaka,tokyo  *enabled  *no ' "$T/out" ||
	fail "carl's row: $(grep '^carl' "$T/out")"
ctl list --json >"$T/body"
assert_eq "$(json '[u["name"] for u in j["users"]]')" "['alice', 'audit', 'bob', 'carl', 'root']" "--json names"
assert_eq "$(json '[(u["disabled"], u["password"], u["totp_enrolled"], u["cert_dn"], u["sessions"]) for u in j["users"] if u["name"] in ("alice", "root")]')" \
	"[(True, True, False, '$dn', 0), (False, False, False, None, 2)]" "--json state (root: s3 and s8)"
grep -q 'argon2' "$T/body" && fail "the hash is listed"
rc=0
ctl list --yaml >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "list --yaml is a usage error"
ok "list: table and JSON, no secret"

# ---- the admin API ----
okuru_start
api "$alice" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{}' >/dev/null
assert_eq "$(status)" 401 "a disabled user's token"
api "$root" GET /api/v1/admin/users >/dev/null
assert_eq "$(status)" 200 "admin lists"
assert_eq "$(json '[u["name"] for u in j["users"]]')" "['alice', 'audit', 'bob', 'carl', 'root']" "API names"
assert_eq "$(json '[u for u in j["users"] if u["name"] == "carl"][0]["groups"]')" "['osaka', 'tokyo']" "groups"
grep -q 'argon2\|pw_hash\|totp_wrapped' "$T/body" && fail "a secret in the list"
for who in bob audit; do
	tok=$bob
	[ $who = audit ] && tok=$audit
	api "$tok" GET /api/v1/admin/users >/dev/null
	assert_eq "$(status)" 403 "$who lists"
	api "$tok" GET /api/v1/admin/users/carl >/dev/null
	assert_eq "$(status)" 403 "$who shows"
	api "$tok" POST /api/v1/admin/users/carl -H 'Content-Type: application/json' \
		-d '{"action": "unlock"}' >/dev/null
	assert_eq "$(status)" 403 "$who acts"
	api "$tok" POST /api/v1/admin/users -H 'Content-Type: application/json' \
		-d '{"name": "eve", "email": "eve@bank.example", "role": "admin", "password": "a long password!"}' >/dev/null
	assert_eq "$(status)" 403 "$who creates"
done
assert_eq "$(json 'j["error"]')" "only admins may manage users" "403 body"
api "" GET /api/v1/admin/users >/dev/null
assert_eq "$(status)" 401 "no token"
ok "API: admins only (403 for sender and auditor, 401 without a token)"

post_users() { # PATH JSON
	api "$root" POST "/api/v1/admin/users$1" -H 'Content-Type: application/json' -d "$2" >/dev/null
}
n0=$(nrec)
bad() { # PATH JSON NEEDLE
	post_users "$1" "$2"
	assert_eq "$(status)" 400 "400 for $2"
	assert_contains "$(json 'j["error"]')" "$3" "error for $2"
}
bad "" 'not json' 'a JSON object'
bad "" '[]' 'a JSON object'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "password": "a long password!", "x": 1}' 'unknown field'
bad "" '{"email": "dave@bank.example", "role": "sender", "password": "a long password!"}' 'name must be a string'
bad "" '{"name": "da ve", "email": "dave@bank.example", "role": "sender", "password": "a long password!"}' 'name must be 1-64'
bad "" '{"name": "dave", "email": "dave", "role": "sender", "password": "a long password!"}' 'email must be'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "root", "password": "a long password!"}' 'role must be'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "groups": "x", "password": "a long password!"}' 'groups must'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "groups": [1], "password": "a long password!"}' 'groups must'
bad "" "{\"name\": \"dave\", \"email\": \"dave@bank.example\", \"role\": \"sender\", \"groups\": [$(seq -f '"g%g"' -s, 1 33)], \"password\": \"a long password!\"}" 'at most 32 groups'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender"}' 'password must be a string'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "password": "short"}' 'password: the password is too short'
bad "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "password": "dave"}' 'password:'
bad "" '{"name": "dave", "name": "eve", "email": "dave@bank.example", "role": "sender", "password": "a long password!"}' 'a JSON object'
assert_eq "$(sqlq "$DB" "SELECT count(*) FROM users WHERE name = 'dave'")" 0 "no user from a bad request"
assert_eq "$(nrec)" "$n0" "nothing recorded by bad requests"
post_users "" '{"name": "dave", "email": "dave@bank.example", "role": "sender", "groups": ["tokyo"], "password": "a long password!"}'
assert_eq "$(status)" 201 "create"
assert_eq "$(json '(j["name"], j["role"], j["email"], j["groups"], j["password"], j["disabled"], j["totp_enrolled"])')" \
	"('dave', 'sender', 'dave@bank.example', ['tokyo'], True, False, False)" "created user"
pw_ok dave 'a long password!' || fail "dave's password"
assert_eq "$(sqlq "$DB" "SELECT group_concat(event || ':' || actor_kind || ':' || actor, ' ') FROM
	(SELECT * FROM audit WHERE object_id = 'dave' ORDER BY seq)")" \
	"user.added:user:root user.password_set:user:root" "create recorded, by the admin"
post_users "" '{"name": "dave", "email": "d2@bank.example", "role": "admin", "password": "a long password!"}'
assert_eq "$(status)" 409 "duplicate name"
assert_eq "$(col dave role)" sender "the existing user unchanged"
ok "API create: the shared rules (400 naming the field), 201, 409"
n0=$(nrec)

bad /dave '{}' 'action must be'
bad /dave '{"action": "explode"}' 'action must be'
bad /dave '{"action": 1}' 'action must be'
bad /dave '{"action": "disable", "why": "x"}' 'unknown field'
bad /dave '{"action": "password"}' 'password is given exactly when'
bad /dave '{"action": "unlock", "password": "a long password!"}' 'password is given exactly when'
bad /dave '{"action": "password", "password": "short"}' 'password: the password is too short'
bad /dave '{"action": "password", "password": 12345678901234}' 'password must be a string'
pw_ok dave 'a long password!' || fail "dave's password changed by a bad request"
post_users /nobody '{"action": "unlock"}'
assert_eq "$(status)" 404 "unknown user"
assert_eq "$(json 'j["error"]')" "no such user" "404 body"
post_users '/bad%20name' '{"action": "unlock"}'
assert_eq "$(status)" 404 "impossible name"
api "$root" GET /api/v1/admin/users/nobody >/dev/null
assert_eq "$(status)" 404 "GET unknown user"
api "$root" DELETE /api/v1/admin/users/dave >/dev/null
assert_eq "$(status)" 405 "DELETE"
api "$root" GET /api/v1/admin/users/dave/x >/dev/null
assert_eq "$(status)" 404 "a path below a user"
post_users /root '{"action": "disable"}'
assert_eq "$(status)" 409 "an admin disables themself"
assert_eq "$(col root disabled)" 0 "root still enabled"
assert_eq "$(nrec)" "$n0" "nothing recorded by refused actions"
ok "API actions: 400, 404, 405, 409 for oneself"

# Each action, its effect, its record by the admin.
act() { # NAME ACTION [EXTRA JSON] -> checks 200 and the newest record
	post_users "/$1" "{\"action\": \"$2\"${3:+, $3}}"
	assert_eq "$(status)" 200 "$2 $1"
	assert_eq "$(sqlq "$DB" "SELECT event, actor_kind, actor, object_id FROM audit ORDER BY seq DESC LIMIT 1")" \
		"$4|user|root|$1" "$2 recorded"
}
add_session dave d1
act dave password '"password": "another long password"' user.password_set
pw_ok dave 'another long password' || fail "dave's new password"
assert_eq "$(ended d1)" 1 "password ends the sessions"
assert_eq "$(json 'j["sessions"]')" 0 "no live session left"
add_session dave d2
act dave totp_reset "" user.totp_reset
assert_eq "$(ended d2)" 1 "totp_reset ends the sessions"
sqlq "$DB" "UPDATE users SET failed_logins = 7, locked_until = :t WHERE name = 'dave'" t=$(($(date +%s) + 600))
api "$root" GET /api/v1/admin/users/dave >/dev/null
assert_eq "$(json '(j["locked"], j["failed_logins"], j["locked_until"] is not None)')" "(True, 7, True)" "locked"
act dave unlock "" user.unlocked
assert_eq "$(json '(j["locked"], j["failed_logins"], j["locked_until"])')" "(False, 0, None)" "unlocked"
add_session dave d3
act dave end_sessions "" user.sessions_ended
assert_eq "$(ended d3)" 1 "end_sessions"
add_session bob b1
act bob disable "" user.disabled
assert_eq "$(json 'j["disabled"]')" True "bob disabled"
assert_eq "$(ended b1)" 1 "disable ends the sessions"
api "$bob" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{}' >/dev/null
assert_eq "$(status)" 401 "disabled bob's token refused"
post_users /bob '{"action": "disable"}'
assert_eq "$(status)" 409 "disabled twice"
act bob enable "" user.enabled
api "$bob" POST /api/v1/transfers -H 'Content-Type: application/json' -d '{}' >/dev/null
assert_eq "$(status)" 201 "enabled bob's token works again"
act alice enable "" user.enabled
assert_eq "$(json '(j["disabled"], j["cert_dn"])')" "(False, '$dn')" "alice back with her DN"
ok "API actions: each takes effect, ends sessions where it should, and is recorded by the admin"

okuru_stop
"$OKURUCTL" -c "$CONF" audit verify >/dev/null || fail "audit verify"
ok "audit log verifies"
