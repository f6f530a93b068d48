#!/usr/bin/env bash
# Calls per second (issue 4): the uac-basic scenario run CALLS times by siptest against SIPp's
# built-in UAS, beside SIPp's own built-in UAC against the same UAS, in the same script.
# Both rates are wall-clock: CALLS / (process start to exit), every call complete; SIPp's own
# CallRate(C) from -trace_stat is printed too. ROUNDS rounds, medians at the end, and the load
# average before and after (the numbers are only comparable on a machine equally loaded).
#
#   ci/bench-calls.sh                       # CALLS=2000 ROUNDS=3 JOBS=30 RATE= SIPP_RATE=2000
#   JOBS=50 RATE=3000 ci/bench-calls.sh
#   SIPP_RATE=5000 ci/bench-calls.sh        # SIPp nearer its own ceiling
#
# JOBS=30: SIPp's UAS reads with a small socket buffer, and more calls started at once than it
# can take (JOBS=100 and up on a 2-core machine) lose datagrams; the retransmissions that
# follow fail runs (a 2xx retransmitted after its ACK was lost breaks no rule, but the checker
# cannot tell). 20-50 gave the same rates. SIPP_RATE caps SIPp's UAC (-r); SIPp's own rate
# without the cap is several times higher, so say which one a ratio is against.
#
# Needs sipp, python3 (to read the JSON), and builds siptest in release mode. Installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

calls="${CALLS:-2000}"
rounds="${ROUNDS:-3}"
jobs="${JOBS:-30}"
rate="${RATE:-}"
sipp_rate="${SIPP_RATE:-2000}"

cargo build --release --quiet
siptest="$PWD/target/release/siptest"
scenario="$PWD/tests/scenarios/sipp/uac-basic.yaml"

work="$(mktemp -d)"
uas_pid=""
cleanup() {
  if [ -n "$uas_pid" ]; then kill -INT "$uas_pid" 2>/dev/null || true; wait "$uas_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

rate_args=()
[ -n "$rate" ] && rate_args=(--rate "$rate")

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %14s %9s %14s %14s %9s %7s\n' round siptest_cps fail sipp_cps sipp_stat_cps sipp_fail ratio
for round in $(seq 1 "$rounds"); do
  port="$(free_port)"
  uac_port="$(free_port)"
  # The UAS: no -m (it serves both clients), bounded by timeout.
  (cd "$work" && exec timeout -s INT -k 5 300 sipp -sn uas -i 127.0.0.1 -p "$port" -nostdin \
      >"$work/uas-$round.log" 2>&1) &
  uas_pid=$!
  sleep 0.5

  reports="$work/reports-$round"
  t0="$(now)"
  set +e
  "$siptest" run --target "udp:127.0.0.1:$port" --repeat "$calls" --jobs "$jobs" "${rate_args[@]}" \
      --format json --report-dir "$reports" "$scenario" >"$work/siptest-$round.json" 2>"$work/siptest-$round.err"
  set -e
  t1="$(now)"
  read -r pass notpass < <(python3 - "$work/siptest-$round.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(s.get("pass", 0), sum(v for k, v in s.items() if k != "pass"))
PY
)
  st_cps="$(awk -v n="$pass" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')"

  stat="$work/sipp-$round.csv"
  t0="$(now)"
  set +e
  (cd "$work" && timeout -s INT -k 5 120 sipp -sn uac "127.0.0.1:$port" -i 127.0.0.1 -p "$uac_port" \
      -m "$calls" -r "$sipp_rate" -nostdin -trace_stat -stf "$stat" -fd 1 >"$work/uac-$round.log" 2>&1)
  set -e
  t1="$(now)"
  read -r sp_ok sp_fail sp_stat < <(python3 - "$stat" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h, last = rows[0], rows[-1]
get = lambda k: last[h.index(k)]
print(get("SuccessfulCall(C)"), get("FailedCall(C)"), round(float(get("CallRate(C)"))))
PY
)
  sp_cps="$(awk -v n="$sp_ok" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')"
  ratio="$(awk -v x="$st_cps" -v y="$sp_cps" 'BEGIN {printf "%.2f", (y > 0) ? x / y : 0}')"

  kill -INT "$uas_pid" 2>/dev/null || true
  wait "$uas_pid" 2>/dev/null || true
  uas_pid=""

  printf '%-6s %14s %9s %14s %14s %9s %7s\n' "$round" "$st_cps" "$notpass" "$sp_cps" "$sp_stat" "$sp_fail" "$ratio"
  echo "$st_cps $notpass $sp_cps $sp_stat $sp_fail $ratio" >>"$work/rows"
done

col() { awk -v c="$1" '{print $c}' "$work/rows" | median; }
echo
echo "median over $rounds rounds, $calls calls each (siptest --jobs $jobs${rate:+ --rate $rate}; sipp -r $sipp_rate):"
echo "  siptest: $(col 1) calls/s, $(col 2) not passed"
echo "  sipp:    $(col 3) calls/s wall ($(col 4) by its CallRate(C)), $(col 5) failed"
echo "  ratio siptest/sipp (wall): $(col 6)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
