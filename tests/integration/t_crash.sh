#!/bin/bash
# t_crash.sh - kill -9 okurud in the middle of uploads, restart, and prove
# that no partial file is listed or served and every acknowledged file is
# intact. Three rounds with different kill points.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
mkdir "$T/src" "$T/acks"
for i in $(seq 1 8); do
	head -c $((1500000 + i * 77777)) /dev/urandom >"$T/src/f$i"
done

upload() { # ROUND N RATE
	name="r$1-f$2"
	code=$(curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" \
		--limit-rate "$3" -T "$T/src/f$2" -o "$T/acks/$name.json" -w '%{http_code}' \
		"$URL/api/v1/transfers/$tid/files/$name" 2>/dev/null) || true
	[ "$code" = 201 ] && echo "$2" >"$T/acks/$name.ok"
	return 0
}

for round in 1 2 3; do
	pids=""
	for i in $(seq 1 8); do
		# Fast ones finish before the kill; slow ones are cut mid-body.
		if [ $((i % 2)) -eq 0 ]; then rate=100M; else rate=$((400 + i * 50))K; fi
		upload "$round" "$i" "$rate" &
		pids="$pids $!"
	done
	sleep "$(awk "BEGIN { print 1.0 + $round * 0.7 }")"
	okuru_kill9
	# shellcheck disable=SC2086
	wait $pids
	okuru_start
	ls "$T/acks"/*.ok >/dev/null 2>&1 || fail "round $round: no upload was acknowledged"
done
acked=$(ls "$T/acks"/*.ok | wc -l)
[ "$acked" -lt 24 ] || fail "no upload was cut by the kills; the test proved nothing"

api "$tok" GET "/api/v1/transfers/$tid" >/dev/null
$PY -c "import json; j=json.load(open('$T/body')); print('\n'.join('%s %s %s %s' % (f['id'], f['name'], f['size'], f['sha256']) for f in j['files']))" >"$T/listed"
# Every acknowledged file is listed.
for ack in "$T/acks"/*.ok; do
	name=$(basename "$ack" .ok)
	grep -q " $name " "$T/listed" || fail "acknowledged $name is not listed"
done
# Every listed file is complete and downloads byte-identical to its source.
while read -r fid name size digest; do
	i=${name##*-f}
	assert_eq "$size" "$(stat -c %s "$T/src/f$i")" "listed size of $name"
	assert_eq "$digest" "$(sha "$T/src/f$i")" "listed sha256 of $name"
	assert_eq "$(wait_scan "$tok" "$tid" "$fid")" clean "scan of $name after the kills"
	curl -sS --cacert "$DATA/tls/cert.pem" -H "Authorization: Bearer $tok" -o "$T/back" \
		"$URL/api/v1/transfers/$tid/files/$fid"
	assert_eq "$(sha "$T/back")" "$digest" "download of $name"
done <"$T/listed"
listed=$(wc -l <"$T/listed")
[ -z "$(ls -A "$DATA/storage/tmp")" ] || fail "staging files after restart"
assert_eq "$(find "$DATA/storage/blobs" -type f | wc -l)" "$listed" "blobs on disk = rows"
ok "after 3 kill -9 rounds: $acked acknowledged of 24, $listed listed, all intact, no partial file"
okuru_stop
