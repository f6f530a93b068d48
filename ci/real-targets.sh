#!/usr/bin/env bash
# Plays the basic call, OPTIONS and hold scenarios against real user agents on loopback (SIPp's
# built-in UAS and baresip, each started and stopped by siptest from ci/targets/NAME.yml) and
# prints a table scenario x target -> verdict and reason. Reports (results.json, a pcap and a
# trace per run, the target's own log) go to reports/real/NAME/.
#
#   ci/real-targets.sh [TARGET...]      # default: sipp-uas baresip
#
# Needs sipp (sip-tester), baresip and jq. Only 127.0.0.1 is used. Exit 0 when every run
# ended with a verdict (not necessarily pass), 2 on a configuration error.
#
# --agent-port alice=PORT with PORT below 40000: siptest's SDP offers m=audio on
# 40000 + (SIP port % 10000) rounded down to even (src/engine/agent.rs), which is the agent's
# own SIP port (or its RTCP port + 1 is) when the system picks a SIP port in 40000-49999; baresip's
# RTP/RTCP then lands on siptest's SIP socket and fails the step with "not a SIP message". A
# fixed agent port outside that range avoids it; --jobs 1 because the port is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sipp-uas baresip)
scenarios=(scenarios/call/uac-basic.yaml scenarios/non-invite/options.yaml scenarios/hold/)

for tool in sipp baresip jq; do
  command -v "$tool" >/dev/null || { echo "ci/real-targets.sh: $tool is missing" >&2; exit 2; }
done

# A UDP port on 127.0.0.1 that nothing listens on, below 40000.
free_port() {
  local p
  for p in $(seq 15800 15860); do
    ss -Hlun "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  echo "ci/real-targets.sh: no free UDP port in 15800-15860" >&2
  exit 2
}

cargo build --release --quiet
bin=target/release/siptest

for t in "${targets[@]}"; do
  dir=reports/real/$t
  rm -rf "$dir"
  mkdir -p "$dir"
  set +e
  "$bin" run --targets "ci/targets/$t.yml" --jobs 1 --agent-port "alice=$(free_port)" \
    --format json --report-dir "$dir" "${scenarios[@]}" >"$dir/stdout.json"
  rc=$?
  set -e
  if [ "$rc" -gt 1 ]; then
    echo "ci/real-targets.sh: siptest run against $t failed with exit $rc" >&2
    exit "$rc"
  fi
done

printf '%-32s %-9s %-13s %s\n' SCENARIO TARGET VERDICT REASON
for t in "${targets[@]}"; do
  jq -r '.runs[] | [.scenario, .target, .verdict,
      ( if .verdict == "pass" then ""
        elif .reason then .reason
        else "step \(.step.line):\(.step.column) expected \(.expected // "?"); got \(.actual // "?")" end
      ) + ( [.findings[]? | select(.severity == "error" and (.rule | startswith("scenario.") | not)) | .rule]
            | unique | if length > 0 then " [checker: \(join(", "))]" else "" end )
    ] | @tsv' "reports/real/$t/results.json" |
    while IFS=$'\t' read -r sc tg v why; do
      printf '%-32s %-9s %-13s %s\n' "$sc" "$tg" "$v" "$why"
    done
done
