#!/usr/bin/env bash
# The local network in one command: builds the peer, the dev orderer and the launcher (release), then runs
# `localnet`: netgen's 2 orgs × 2 peers, the dev orderer and four peer processes on 127.0.0.1, a workload of
# endorsed transactions through Broadcast, and each peer's height and state checksum. Ctrl-C stops everything.
#
#   Tools/local-network.sh [--transactions N] [--dir DIR] [--base-port PORT] [--keep-running]
set -euo pipefail
cd "$(dirname "$0")/.."
for product in peer dev-orderer localnet; do
    swift build -c release --product "$product"
done
exec "$(swift build -c release --show-bin-path)/localnet" "$@"
