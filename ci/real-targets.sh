#!/usr/bin/env bash
# The interop matrix by hand: the whole scenario library against the real devices of
# ci/targets/ (SIPp's built-in UAS, baresip, linphonec, Twinkle, Kamailio), each started on
# 127.0.0.1 by siptest, two targets at a time; then the results against ci/expectations/ and
# the HTML matrix. tests/real_matrix.rs does the same in the test suite.
#
#   ci/real-targets.sh [TARGET...]      # default: the five, in tests/real_matrix.rs's order
#
# Reports go to reports/matrix/ (index.html, results.json, tested-against.md, a pcap and a
# trace per run, each device's log). Exit 0 when every result is as expected, 1 when one
# changed (the changes are printed), 2 on a configuration error.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sipp-uas baresip linphone twinkle kamailio)
fi

cargo build --release --quiet
bin=target/release/siptest
dir=reports/matrix
rm -rf "$dir"
mkdir -p "$dir"
for t in "${targets[@]}"; do cat "ci/targets/$t.yml"; echo; done >"$dir/targets.yml"

set +e
"$bin" run --targets "$dir/targets.yml" --target-jobs 2 --format json --report-dir "$dir" scenarios/ >/dev/null
rc=$?
set -e
[ "$rc" -le 1 ] || { echo "ci/real-targets.sh: siptest run failed with exit $rc" >&2; exit "$rc"; }
exec "$bin" report "$dir/results.json" --expect ci/expectations -o "$dir/index.html" \
  --summary-md "$dir/tested-against.md"
