#!/usr/bin/env bash
# Parse throughput: siptest against ezk-sip-types (cargo bench --bench parse) and, when the
# libosip2 development files are installed (Debian: libosip2-dev), against libosip2 on exactly
# the same "typical call" messages, timed the same way (median of 5 samples, one thread).
# This script installs nothing.
#
#   ci/bench.sh                 # SIPTEST_BENCH_SECS=1 per sample by default
set -euo pipefail
cd "$(dirname "$0")/.."

export SIPTEST_CORPUS="${SIPTEST_CORPUS:-$(cd .. && pwd)/shared/corpus}"
secs="${SIPTEST_BENCH_SECS:-1}"
export SIPTEST_BENCH_SECS="$secs"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo bench --bench parse | tee "$work/bench.txt"

echo
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libosip2; then
  echo "ci/bench.sh: libosip2 not found by pkg-config (install libosip2-dev); skipping the libosip2 comparison"
  exit 0
fi

cargo bench --bench parse -- --dump "$work/typical" >/dev/null

cat > "$work/osip_bench.c" <<'C'
/* Times osip_message_init + osip_message_parse + osip_message_free over the files given on
 * the command line, in passes, like the Rust bench: warm-up, then 5 samples, median. */
#include <osipparser2/osip_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    double secs = atof(argv[1]);
    int n = argc - 2;
    char **msg = calloc(n, sizeof *msg);
    size_t *len = calloc(n, sizeof *len), total = 0;
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(argv[i + 2], "rb");
        if (!f) { perror(argv[i + 2]); return 2; }
        fseek(f, 0, SEEK_END);
        len[i] = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        msg[i] = malloc(len[i] + 1);
        if (fread(msg[i], 1, len[i], f) != len[i]) { perror("read"); return 2; }
        msg[i][len[i]] = 0;
        fclose(f);
        total += len[i];
    }
    parser_init();
    int failures = 0;
    for (int i = 0; i < n; i++) {
        osip_message_t *m;
        osip_message_init(&m);
        if (osip_message_parse(m, msg[i], len[i]) != 0) {
            fprintf(stderr, "libosip2 fails to parse %s\n", argv[i + 2]);
            failures++;
        }
        osip_message_free(m);
    }
    double sample[5];
    for (int s = -1; s < 5; s++) {
        double limit = s < 0 ? secs / 4 : secs, t0 = now(), t;
        long passes = 0;
        do {
            for (int k = 0; k < 16; k++, passes++)
                for (int i = 0; i < n; i++) {
                    osip_message_t *m;
                    osip_message_init(&m);
                    osip_message_parse(m, msg[i], len[i]);
                    osip_message_free(m);
                }
            t = now() - t0;
        } while (t < limit);
        if (s >= 0) sample[s] = passes * (double)n / t;
    }
    qsort(sample, 5, sizeof *sample, cmp);
    printf("libosip2 %.0f msgs/s %.1f MB/s (%d messages, %zu bytes, %d parse failures)\n",
           sample[2], sample[2] * total / n / 1e6, n, total, failures);
    return 0;
}
C
cc -O2 -o "$work/osip_bench" "$work/osip_bench.c" $(pkg-config --cflags --libs libosip2)

echo "== typical call, libosip2 $(pkg-config --modversion libosip2) (osip_message_init + osip_message_parse + osip_message_free; parses every header into its structures, keeps the body as text) =="
osip_line="$("$work/osip_bench" "$secs" "$work"/typical/*.sip | tee /dev/stderr)"
osip_rate="$(awk '{print $2}' <<<"$osip_line")"
siptest_rate="$(awk '$1 == "RESULT" && $2 == "typical" && $3 == "siptest-full" {print $4}' "$work/bench.txt")"
head_rate="$(awk '$1 == "RESULT" && $2 == "typical" && $3 == "siptest-head" {print $4}' "$work/bench.txt")"
awk -v s="$siptest_rate" -v h="$head_rate" -v o="$osip_rate" 'BEGIN {
  printf "siptest/libosip2 on the typical call: parse_datagram %.2fx, parse_head %.2fx (target >= 3x)\n", s / o, h / o
}'
