#!/bin/sh
# testca.sh DIR - a throw-away certificate authority for tests and the demo.
#
# Creates in DIR (EC P-256, valid 30 days):
#   ca.pem, ca.key                 the test CA
#   server.pem, server.key         signed by it for DNS:localhost and IP:127.0.0.1
#   untrusted.pem, untrusted.key   self-signed for localhost (no CA knows it)
#   wrongname.pem, wrongname.key   signed by the CA, but for mail.other.example
# Idempotent: does nothing when DIR/ca.pem exists. Quiet unless it fails.
# Never use these for anything real: the CA key sits next to the certificate.
set -eu

[ $# -eq 1 ] || { echo "usage: testca.sh DIR" >&2; exit 2; }
dir=$1
[ -f "$dir/ca.pem" ] && exit 0
command -v openssl >/dev/null || { echo "testca.sh: openssl not found" >&2; exit 1; }

umask 077
mkdir -p "$dir"
# Work in a private directory and move ca.pem in last, so an interrupted run
# is simply repeated.
work=$(mktemp -d "$dir/.testca.XXXXXX")
trap 'rm -rf "$work"' EXIT
days=30

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 16)"; }

# leaf NAME SAN CN - a server certificate for SAN, signed by the CA
leaf() {
	key "$1"
	openssl req -new -key "$work/$1.key" -subj "/O=okuru test/CN=$3" -out "$work/$1.csr" 2>/dev/null
	cat >"$work/$1.ext" <<EOT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
	openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
		-set_serial "$(serial)" -days "$days" -sha256 -extfile "$work/$1.ext" \
		-out "$work/$1.pem" 2>/dev/null
}

key ca
openssl req -x509 -new -key "$work/ca.key" -subj "/O=okuru test/CN=okuru test CA (not for real use)" \
	-days "$days" -sha256 -set_serial "$(serial)" \
	-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out "$work/ca.pem" 2>/dev/null

leaf server "DNS:localhost, IP:127.0.0.1" localhost
leaf wrongname "DNS:mail.other.example" mail.other.example

key untrusted
openssl req -x509 -new -key "$work/untrusted.key" -subj "/O=okuru test/CN=localhost" \
	-days "$days" -sha256 -set_serial "$(serial)" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-addext "extendedKeyUsage=serverAuth" \
	-out "$work/untrusted.pem" 2>/dev/null

for f in ca.key server.pem server.key untrusted.pem untrusted.key wrongname.pem wrongname.key; do
	mv "$work/$f" "$dir/$f"
done
chmod 644 "$dir"/*.pem "$work/ca.pem"
mv "$work/ca.pem" "$dir/ca.pem"
