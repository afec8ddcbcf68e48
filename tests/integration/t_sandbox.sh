#!/bin/bash
# t_sandbox.sh - the running scanner worker, seen from outside: seccomp
# filter and no_new_privs in force, Landlock confinement reported, rlimits
# set, only its socket and stdio open (no database, no key file, no
# storage directory, no listening socket), and the master key nowhere in
# its memory while the daemon's own memory does hold it (which shows the
# search works). That the filter stops socket(), connect() and exec is
# proved by tests/unit/test_sandbox.
. "${TESTLIB:-$(dirname "$0")/lib.sh}"

okuru_init
conf_set scanner memory_limit '"3G"'
conf_set scanner cpu_limit 1234
tok=$(okuru_user alice sender)
okuru_start
tid=$(new_transfer "$tok")
# Make the worker decrypt something first, so a data key has passed through it.
head -c 500000 /dev/urandom >"$T/f"
upload_clean "$tok" "$tid" f.bin "$T/f" >/dev/null
w=$(worker_pids)
[ "$(echo "$w" | wc -l)" = 1 ] || fail "expected one worker: $w"

st=$(cat "/proc/$w/status")
assert_contains "$st" "$(printf 'Seccomp:\t2')" "seccomp filter mode"
assert_contains "$st" "$(printf 'NoNewPrivs:\t1')" "no_new_privs"
abi=$(landlock_abi)
if [ "$abi" -ge 1 ]; then
	assert_eq "$(health 'j["scanner"]["sandbox"]')" "seccomp+landlock" "Landlock in force"
	ok "worker runs under a seccomp filter with no_new_privs, and Landlock (ABI $abi)"
else
	assert_eq "$(health 'j["scanner"]["sandbox"]')" "seccomp" "sandbox without Landlock"
	grep -q "event=scanner.no_landlock" "$LOG" || fail "missing Landlock not reported"
	ok "worker runs under a seccomp filter with no_new_privs (this kernel has no Landlock)"
fi

lim=$(cat "/proc/$w/limits")
echo "$lim" | grep -Eq '^Max cpu time +1234 +1244 ' || fail "RLIMIT_CPU: $lim"
echo "$lim" | grep -Eq '^Max open files +64 +64 ' || fail "RLIMIT_NOFILE: $lim"
echo "$lim" | grep -Eq '^Max core file size +0 +0 ' || fail "RLIMIT_CORE: $lim"
if [ "${OKURU_SANITIZERS:-no}" = yes ]; then
	echo "# AddressSanitizer build: no address-space limit (its shadow memory needs TiBs)"
else
	echo "$lim" | grep -Eq '^Max address space +3221225472 +3221225472 ' || fail "RLIMIT_AS: $lim"
fi
ok "worker rlimits: CPU, open files, no core dumps, address space"

fds=$(ls "/proc/$w/fd" | sort -n | tr '\n' ' ')
assert_eq "$fds" "0 1 2 3 " "worker descriptors"
[ "$(readlink "/proc/$w/fd/0")" = /dev/null ] || fail "stdin is not /dev/null"
readlink "/proc/$w/fd/3" | grep -q '^socket:' || fail "fd 3 is not its socket"
for f in "/proc/$w/fd/"*; do
	case $(readlink "$f") in
	*okuru.db* | *master.key* | *"$DATA/storage"* | *key.pem*) fail "worker holds $(readlink "$f")" ;;
	esac
done
ok "worker holds only stdio and its socket: no database, key, storage or listener"

# Search both processes' memory for the master key (its 32 raw bytes).
$PY - "$DATA/master.key" "$w" "$PID" <<'PYEOF' || fail "master key search"
import re, sys
key = open(sys.argv[1], "rb").read()[:32]
def holds(pid):
    found = False
    with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            start, end, perm = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            if perm[0] != "r" or end - start > (1 << 34):
                continue
            try:
                mem.seek(start)
                if key in mem.read(end - start):
                    found = True
            except (OSError, OverflowError, ValueError):
                pass
    return found
if holds(sys.argv[2]):
    print("FAIL: the master key is in the scanner worker's memory"); sys.exit(1)
if not holds(sys.argv[3]):
    print("FAIL: the master key was not found in okurud either: the search proves nothing"); sys.exit(1)
PYEOF
ok "the master key is in okurud's memory and not in the worker's"

# The worker's temp directory is private and on tmpfs.
d=$(find "$SCANTMP" -mindepth 1 -maxdepth 1 -type d)
assert_eq "$(echo "$d" | wc -l)" 1 "one worker temp directory"
assert_eq "$(stat -c %a "$d")" 700 "temp directory mode"
assert_eq "$(stat -f -c %T "$d")" tmpfs "temp directory file system"
ok "the worker's temp directory is private (0700) and on tmpfs"
okuru_stop
