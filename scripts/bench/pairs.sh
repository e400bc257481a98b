#!/usr/bin/env bash
# Interleaved runs of the default-pipeline bench, for comparing configs on a
# noisy machine (only ratios of interleaved runs mean anything there):
#
#   bash scripts/bench/pairs.sh ROUNDS PHASES CONFIG [CONFIG...]
#   bash scripts/bench/pairs.sh 2 logs,traces,zipkin,jaeger pipeline.yaml /tmp/other.yaml
#
# Each round runs `scripts/bench/run.ts --phases PHASES --config C` for every
# CONFIG in turn and prints one line: the config, records per CPU-second per
# phase (marked !LOSS unless stored == accepted) and peak RSS.
set -euo pipefail
rounds=$1 phases=$2
shift 2
cd "$(dirname "$0")/../.."
for _ in $(seq 1 "$rounds"); do
  for c in "$@"; do
    node --import tsx scripts/bench/run.ts --phases "$phases" --config "$c" 2>/dev/null |
      sed -n '/^{$/,/^}$/p' |
      node -e '
        let s = "";
        process.stdin.on("data", (d) => (s += d)).on("end", () => {
          const j = JSON.parse(s);
          const r = Object.entries(j).filter(([, v]) => v && v.per_cpu_second).map(([k, v]) => `${k}=${v.per_cpu_second}${v.stored_equals_accepted ? "" : "!LOSS"}`);
          console.log(process.argv[1], r.join(" "), "rss", j.peak_rss_mib);
        });' "$c"
  done
done
