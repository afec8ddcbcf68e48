#!/bin/bash
# test.sh - install what is needed, build okuru with ASan/UBSan and run the
# whole test suite (cmocka units + integration tests against the real
# okurud on loopback), then `make distcheck`. Idempotent. Run as root on
# Debian 12. Ends with "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh

[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
build="$top/_build/test"
mkdir -p "$build"
cd "$build"
if [ ! -f config.status ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" -q --enable-sanitizers
fi
make -j2 >/dev/null
status=0
# The browser tests' node modules and screenshots, for make check and for
# make distcheck's copy (whose tarball has no node_modules).
export OKURU_JS_MODULES="$top/tests/js/node_modules"
export OKURU_ARTIFACTS="$top/_build/test-artifacts"
make check -j1 || status=$?

count() { find . -name '*.trs' -exec cat {} + 2>/dev/null | grep -c "^:test-result: $1" || true; }
pass=$(count 'PASS')
fail=$(count '\(FAIL\|ERROR\|XPASS\)')
if [ "$status" -ne 0 ]; then
	for log in $(find . -name '*.trs' -exec grep -l '^:test-result: \(FAIL\|ERROR\)' {} + | sed 's/\.trs$/.log/'); do
		echo "===== $log"
		tail -n 60 "$log"
	done
fi
if [ "$status" -eq 0 ] && [ "${OKURU_SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "test.sh: make distcheck"
	make distcheck >"$build/distcheck.log" 2>&1 || {
		tail -n 80 "$build/distcheck.log"
		status=1
		fail=$((fail + 1))
	}
fi
[ -d "$OKURU_ARTIFACTS/browser" ] && echo "test.sh: browser screenshots in $OKURU_ARTIFACTS/browser"
echo "$pass passed, $fail failed"
exit "$status"
