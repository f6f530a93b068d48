#!/usr/bin/env bash
# Capture reading throughput: `siptest capture FILE --format json` against
# `tshark -r FILE -Y sip -T fields -e sip.Call-ID` on the same large synthetic capture, in the
# same script. Prints MB/s, messages/s, peak memory and CPU time (user + system), the median of
# ROUNDS rounds each, and the ratio of the wall-clock times. The capture is generated with
# siptest's own pcap writer (examples/gen_capture.rs): CALLS calls (default 50000: ~412k
# messages, ~220 MB), a third over TCP, the rest over UDP.
#
#   ci/bench-capture.sh                  # ROUNDS=3 CALLS=50000 by default
#   ROUNDS=5 CALLS=100000 ci/bench-capture.sh
#
# Installs nothing; without tshark the siptest numbers alone are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
calls="${CALLS:-50000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin siptest --example gen_capture
pcap="$work/bench.pcap"
messages="$(target/release/examples/gen_capture "$pcap" "$calls")"
bytes="$(stat -c %s "$pcap")"
# The file was just written: flush it so that its write-back does not land in a timed round.
sync
echo "capture: $pcap, $bytes octets, $messages SIP messages, $calls calls"

# Runs "$@" with stdout to $work/out; prints "SECONDS PEAK_KB CPU_SECONDS" (CPU time 0 when
# unknown).
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out" 2>/dev/null || true
    awk '{ print $1, $2, $3 + $4 }' "$work/time"
  else
    # No GNU time: wall clock from date, peak RSS from /proc while the process runs.
    local start end peak=0 pid
    start="$(date +%s.%N)"
    "$@" >"$work/out" 2>/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      local kb
      kb="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
      [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak="$kb"
      sleep 0.01
    done
    wait "$pid" || true
    end="$(date +%s.%N)"
    echo "$(echo "$end - $start" | bc) $peak 0"
  fi
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_rounds() {
  local name="$1"
  shift
  : >"$work/$name.times"
  : >"$work/$name.mem"
  : >"$work/$name.cpu"
  for _ in $(seq "$rounds"); do
    read -r secs kb cpu < <(measure "$@")
    echo "$secs" >>"$work/$name.times"
    echo "$kb" >>"$work/$name.mem"
    echo "$cpu" >>"$work/$name.cpu"
  done
  local t m c
  t="$(median <"$work/$name.times")"
  m="$(median <"$work/$name.mem")"
  c="$(median <"$work/$name.cpu")"
  echo "$t" >"$work/$name.median"
  awk -v n="$name" -v t="$t" -v m="$m" -v c="$c" -v b="$bytes" -v k="$messages" 'BEGIN {
    printf "%-8s median %7.3f s  %8.1f MB/s  %10.0f messages/s  peak %7.1f MB  cpu %7.3f s\n",
      n, t, b / 1e6 / t, k / t, m / 1024, c }'
}

run_rounds siptest target/release/siptest capture "$pcap" --format json
found="$(grep -m1 '"messages"' "$work/out" | tr -dc 0-9)"
echo "siptest found $found messages"

if command -v tshark >/dev/null 2>&1; then
  run_rounds tshark tshark -r "$pcap" -Y sip -T fields -e sip.Call-ID
  echo "tshark found $(wc -l <"$work/out") SIP frames"
  awk -v s="$(cat "$work/siptest.median")" -v t="$(cat "$work/tshark.median")" \
    'BEGIN { printf "ratio: siptest is %.1fx faster than tshark (target: 50x)\n", t / s }'
else
  echo "tshark not installed: no comparison"
fi
