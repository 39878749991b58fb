#!/usr/bin/env bash
# Fails when a module other than a C library's owners imports it, or when an owner imports it without
# `internal import`. The compiler does not catch transitive C imports, so this keeps the C surface in one place:
#   COpenSSL: Wire (SHA-256/SHA3-256 digests only) and MSP (keys, signatures, X.509)
#   CZlib:    Wire (the block codec)
#   CLibdeflate: Wire (the block codec's compression)
#   CZstd:    Wire (the block store's record compression)
#   GRDBSQLite: Ledger (point look-ups through SQLite's C API on GRDB's statements)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

declare -A owners=(
    [COpenSSL]="Modules/Wire Modules/MSP"
    [CZlib]="Modules/Wire"
    [CLibdeflate]="Modules/Wire"
    [CZstd]="Modules/Wire"
    [GRDBSQLite]="Modules/Ledger"
)

status=0
for lib in "${!owners[@]}"; do
    while IFS=: read -r file line text; do
        allowed=no
        for owner in ${owners[$lib]}; do
            case "$file" in "$owner"/*) allowed=yes ;; esac
        done
        if [ "$allowed" = no ]; then
            echo "check-c-imports: $file:$line imports $lib, which only ${owners[$lib]} may import" >&2
            status=1
        elif ! grep -Eq "^\s*internal import $lib\b" <<<"$text"; then
            echo "check-c-imports: $file:$line must use 'internal import $lib' (found: $text)" >&2
            status=1
        fi
    done < <(grep -rnE "^\s*(@[A-Za-z_]+\s+)*((public|package|internal|fileprivate|private)\s+)?import\s+(struct\s+|func\s+|class\s+|enum\s+|var\s+|let\s+)?$lib\b" \
        --include='*.swift' Modules Apps Tools Tests 2>/dev/null || true)
done
[ "$status" = 0 ] && echo "check-c-imports: ok"
exit "$status"
