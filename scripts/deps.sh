#!/bin/bash
# deps.sh - install the Debian 12 packages okuru needs to build, run and test.
# Idempotent: apt-get skips what is already installed. Run as root.
set -euo pipefail

PKGS=(
	build-essential autoconf automake libtool pkg-config
	libmicrohttpd-dev libgnutls28-dev gnutls-bin libsodium-dev libclamav-dev
	libcmocka-dev libsqlite3-dev sqlite3 libjansson-dev libconfig-dev libunistring-dev
	libseccomp-dev libcurl4-gnutls-dev libmagic-dev libmagic-mgc
	curl openssl ca-certificates python3 python3-aiosmtpd procps
	clamav clamav-testfiles zip unzip
	faketime jq
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: all ${#PKGS[@]} packages present"
