#!/usr/bin/env bash
# Checks that the manifest's layer table is enforced: Package.swift loads as committed, and a copy in which a
# low-layer module uses a higher one refuses to load with the layering message naming the pair.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift package --package-path "$root" dump-package >/dev/null

cp "$root/Package.swift" "$work/Package.swift"
# Make Wire (layer 1) use TestSupport (layer 8).
python3 - "$work/Package.swift" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
patched, count = re.subn(r'(Module\(\s*"Wire",\s*layer: 1,\s*uses: \[)', r'\1"TestSupport", ', text)
if count != 1:
    sys.exit("check-layering: could not find Wire's row in the layer table")
open(path, "w").write(patched)
PY
if out=$(swift package --package-path "$work" dump-package 2>&1); then
    echo "check-layering: a manifest where Wire uses TestSupport loaded; the layer check is not enforced" >&2
    exit 1
fi
if ! grep -q "layering violation: Wire (layer 1) depends on TestSupport" <<<"$out"; then
    echo "check-layering: the manifest failed, but not with the layering message:" >&2
    echo "$out" | tail -5 >&2
    exit 1
fi
echo "check-layering: ok (an upward dependency is refused: $(grep -o 'layering violation[^"]*' <<<"$out" | head -1))"
