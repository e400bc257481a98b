#!/usr/bin/env bash
# Interleaved A/B of the default-pipeline bench between two checkouts (the
# only honest comparison on a noisy machine: ratios of runs taken side by side).
#
#   bash scripts/bench/ab.sh BASE_CHECKOUT ROUNDS PHASES [-- extra bench args]
#   git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci)
#   bash scripts/bench/ab.sh /tmp/base 3 logs,traces
#
# Each round runs the bench in BASE_CHECKOUT, then in this checkout, each with
# its own ./pipeline.yaml. Prints one line per run, then per phase the median
# records per CPU-second of each side and the median of the per-round ratios.
set -euo pipefail
base=$1 rounds=$2 phases=$3
shift 3
[[ "${1:-}" == "--" ]] && shift
here="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  for side in base new; do
    dir=$base; [[ $side == new ]] && dir=$here
    (cd "$dir" && node --import tsx scripts/bench/run.ts --phases "$phases" "$@" 2>/dev/null) |
      sed -n '/^{$/,/^}$/p' |
      node -e '
        let s = "";
        process.stdin.on("data", (d) => (s += d)).on("end", () => {
          const j = JSON.parse(s);
          for (const [k, v] of Object.entries(j)) if (v && v.per_cpu_second) console.log([process.argv[1], process.argv[2], k, v.per_cpu_second, v.stored_equals_accepted ? "ok" : "LOSS", j.peak_rss_mib].join(" "));
        });' "$r" "$side" | tee -a "$out"
  done
done
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
  const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  for (const phase of [...new Set(rows.map((r) => r[2]))]) {
    const get = (side) => rows.filter((r) => r[2] === phase && r[1] === side);
    const b = get("base"), n = get("new");
    const ratios = n.map((r) => { const p = b.find((x) => x[0] === r[0]); return p ? Number(r[3]) / Number(p[3]) : NaN; }).filter((x) => !Number.isNaN(x));
    console.log(`${phase}: base median ${med(b.map((r) => Number(r[3])))}/CPU-s, new median ${med(n.map((r) => Number(r[3])))}/CPU-s, new/base per round ${ratios.map((x) => x.toFixed(3)).join(" ")}, median ratio ${med(ratios).toFixed(3)}${rows.some((r) => r[2] === phase && r[4] !== "ok") ? " (LOSS in some run!)" : ""}`);
  }' "$out"
