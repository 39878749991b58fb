#!/usr/bin/env bash
# Regenerates Modules/Wire/Generated from the .proto files in Modules/Wire/Protos.
#
# Uses Debian's protoc (apt-get install protobuf-compiler) and the two code generators built from this package's
# own dependencies (swift-protobuf, grpc-swift-protobuf) into .build-tools, which takes about a minute the first
# time; the SwiftPM plugin would compile protoc from C++ source instead (ten minutes).
#
#   Tools/generate-protos.sh           regenerate the committed files
#   Tools/generate-protos.sh --check   regenerate into a temporary folder and fail if the committed files differ
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
protos=Modules/Wire/Protos
out=Modules/Wire/Generated
mode=${1:-write}

if ! command -v protoc >/dev/null; then
    echo "generate-protos: protoc not found; install Debian's protobuf-compiler" >&2
    exit 1
fi
include=$(dirname "$(dirname "$(command -v protoc)")")/include
if [ ! -f "$include/google/protobuf/timestamp.proto" ]; then
    echo "generate-protos: google/protobuf/timestamp.proto not under $include" >&2
    exit 1
fi

swift build --scratch-path .build-tools --product protoc-gen-swift >/dev/null
swift build --scratch-path .build-tools --product protoc-gen-grpc-swift-2 >/dev/null
bin=$(swift build --scratch-path .build-tools --show-bin-path)

target=$out
if [ "$mode" = "--check" ]; then
    target=$(mktemp -d)
    trap 'rm -rf "$target"' EXIT
else
    rm -rf "$out"
    mkdir -p "$out"
fi

files=$(cd "$protos" && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
services=$(cd "$protos" && grep -l '^service ' $files | LC_ALL=C sort)

# shellcheck disable=SC2086
protoc --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    -I "$protos" -I "$include" \
    --swift_out="$target" \
    --swift_opt=Visibility=Public,FileNaming=PathToUnderscores,UseAccessLevelOnImports=true \
    $(for f in $files; do echo "$protos/$f"; done)

# shellcheck disable=SC2086
protoc --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    -I "$protos" -I "$include" \
    --grpc-swift-2_out="$target" \
    --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores,UseAccessLevelOnImports=true \
    $(for f in $services; do echo "$protos/$f"; done)

if [ "$mode" = "--check" ]; then
    if ! diff -r "$out" "$target" >/dev/null; then
        echo "generate-protos: $out is not what the .proto files generate; run Tools/generate-protos.sh" >&2
        diff -r "$out" "$target" | head -40 >&2
        exit 1
    fi
    echo "generate-protos: $out is current"
fi
