# common.sh - what bench/transfer.sh and bench/scan.sh share; sourced after
# they set ROOT, W (their work directory), BIN (empty: build) and define
# info and die.

# bench_binaries - BIN as given, or a fresh build (no sanitizers) of the
# committed tree in $W/src; sets OKURUD, OKURUCTL, SCANNER and SRCDESC.
bench_binaries() {
	if [ -n "$BIN" ]; then
		BIN=$(cd "$BIN" && pwd)
		SRCDESC="prebuilt binaries in $BIN"
	else
		info "building okuru (no sanitizers) from the committed tree of $ROOT"
		if [ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
			info "note: $ROOT has uncommitted changes; they are NOT in this build"
		fi
		git clone -q "$ROOT" "$W/src" || die "git clone $ROOT failed"
		(
			cd "$W/src"
			autoreconf -fi && ./configure && make -j2
		) >"$W/build.log" 2>&1 || die "build failed (see the log above)"
		if grep -q '^SAN_CFLAGS = -fsanitize' "$W/src/Makefile"; then
			die "the build has sanitizers on"
		fi
		BIN="$W/src"
		SRCDESC="commit $(git -C "$W/src" rev-parse --short HEAD), CFLAGS=$(sed -n 's/^CFLAGS = //p' "$W/src/Makefile")"
	fi
	OKURUD="$BIN/okurud"
	OKURUCTL="$BIN/okuructl"
	SCANNER="$BIN/okuru-scanner"
	[ -x "$OKURUD" ] && [ -x "$OKURUCTL" ] && [ -x "$SCANNER" ] ||
		die "no okurud/okuructl/okuru-scanner in $BIN"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

vm_kib() { # PID FIELD
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"
}

# conf_set GROUP KEY VALUE - in $CONF; see scripts/confset.py
conf_set() { python3 "$ROOT/scripts/confset.py" "$CONF" "$@"; }

# test_sigs DIR NAME - a signature directory that knows only EICAR
test_sigs() {
	mkdir -p "$1"
	sh "$ROOT/scripts/eicar.sh" --ndb "$2" >"$1/$2.ndb"
}
