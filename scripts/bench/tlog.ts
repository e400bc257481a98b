/**
 * Micro-benchmark of the per-row cost of the audit log's Merkle tree: one
 * leafHash of an entry the size of an audit leaf entry, and one
 * CompactTree.append, in CPU microseconds per leaf (process.cpuUsage).
 *
 *   node --import tsx scripts/bench/tlog.ts [leaves=100000] [entry bytes=160]
 */
import { leafHash } from '../../lib/tlog/hash.ts';
import { CompactTree } from '../../lib/tlog/tree.ts';

const n = Number(process.argv[2] ?? 100_000);
const size = Number(process.argv[3] ?? 160);
const entry = Buffer.alloc(size, 0x61);

function cpuUs(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return t.user + t.system;
}

const hashes: Buffer[] = new Array(n);
for (let round = 0; round < 3; round++) {
  const h = cpuUs(() => {
    for (let i = 0; i < n; i++) {
      entry.writeUInt32BE(i, 0);
      hashes[i] = leafHash(entry);
    }
  });
  const t = new CompactTree();
  const a = cpuUs(() => {
    for (let i = 0; i < n; i++) t.append(hashes[i]);
  });
  const r = cpuUs(() => t.root());
  console.log(`round ${round}: leafHash ${(h / n).toFixed(3)} µs, append ${(a / n).toFixed(3)} µs, both ${((h + a) / n).toFixed(3)} µs per leaf; root() of ${n} leaves ${r} µs`);
}
