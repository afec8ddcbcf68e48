#!/bin/sh
# eicar.sh - the EICAR anti-virus test string, assembled at run time so that
# no file in this repository is itself flagged by a virus scanner.
#   sh scripts/eicar.sh              the 68-byte string, no newline
#   sh scripts/eicar.sh --ndb NAME   a ClamAV body signature (.ndb line) for it
set -eu
s() { printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'; }
case "${1:-}" in
"") s ;;
--ndb) echo "${2:?usage: eicar.sh --ndb NAME}:0:*:$(s | od -An -tx1 -v | tr -d ' \n')" ;;
*) echo "usage: eicar.sh [--ndb NAME]" >&2; exit 2 ;;
esac
