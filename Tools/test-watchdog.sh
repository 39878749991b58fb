#!/usr/bin/env bash
# Runs a test command and watches its output: when nothing new has been printed for STALL_SECONDS (default 300),
# the run is taken as hung. The watchdog then prints every thread's backtrace of the test process (gdb, when
# installed), kills the run and exits 124, so that a hang ends with evidence instead of a silent CI timeout.
#
#   Tools/test-watchdog.sh swift test -Xswiftc -warnings-as-errors
#
# Any other exit status is the command's own.
set -uo pipefail
stall=${STALL_SECONDS:-300}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Line-buffered output (stdbuf, inherited by the test process): a killed run's log then ends with the last line
# the tests printed, not with whatever a full stdio buffer happened to hold.
line_buffered=()
command -v stdbuf > /dev/null && line_buffered=(stdbuf -oL -eL)

set -m  # the command gets its own process group, so that the watchdog can stop all of it
"${line_buffered[@]}" "$@" > >(tee "$log") 2>&1 &
pid=$!
set +m

last_size=-1
quiet=0
while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if [ "$size" != "$last_size" ]; then
        last_size=$size
        quiet=0
        continue
    fi
    quiet=$((quiet + 5))
    [ "$quiet" -lt "$stall" ] && continue

    echo
    echo "== test-watchdog: no output for ${stall}s; the run is hung"
    for test_pid in $(pgrep -g "$pid" -f '\.xctest' || true); do
        echo "== threads of $(tr '\0' ' ' < "/proc/$test_pid/cmdline" | cut -c1-200) (pid $test_pid)"
        if command -v gdb > /dev/null; then
            timeout 120 gdb -p "$test_pid" -batch -ex "thread apply all bt 25" 2>&1 | grep -v '^\[New LWP' || true
        else
            echo "(gdb is not installed: no backtraces)"
        fi
    done
    kill -TERM -- "-$pid" 2>/dev/null
    sleep 5
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    exit 124
done
wait "$pid"
