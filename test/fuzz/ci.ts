/**
 * The CI fuzz suite for one receiver group: a fixed number of cases per
 * format from a fixed run seed (FUZZ_SEED overrides it, FUZZ_CASES the count),
 * every failure printed with its replay command, then the health check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describe as describeFailure, fuzzFormat, healthCheck } from './harness.ts';
import { startRig, type Group, type Rig } from './rig.ts';

export const CI_SEED = Number(process.env.FUZZ_SEED ?? 20261207) >>> 0;

/** Cases per format name; FUZZ_CASES replaces them all. */
export function fuzzSuite(group: Group, formats: Record<string, number>): void {
  const casesOf = (name: string) => Number(process.env.FUZZ_CASES ?? formats[name]);
  describe(`fuzz: ${group} receivers (seed ${CI_SEED})`, () => {
    let rig: Rig;
    beforeAll(async () => {
      rig = await startRig([group]);
    });
    afterAll(async () => {
      await rig?.close();
    });

    for (const name of Object.keys(formats)) {
      const cases = casesOf(name);
      it(`${name}: ${cases} cases, no crash, hang or 5xx, and only valid payloads accepted`, async () => {
        const fmt = rig.formats.find((f) => f.name === name)!;
        const st = await fuzzFormat(fmt, { runSeed: CI_SEED, cases, timeoutMs: 5000, maxFailures: 5 });
        const report = st.failures.map(describeFailure).join('\n\n');
        expect(report, `fuzz failures (replay with --seed ${CI_SEED})`).toBe('');
        expect(st.cases).toBe(cases);
        // The mutations must reach past the first checks: some cases are accepted, most refused.
        const accepted = Object.entries(st.answers).filter(([k]) => /^2|OK|udp accepted/.test(k)).reduce((n, [, v]) => n + v, 0);
        expect(accepted).toBeGreaterThan(cases * 0.05);
        expect(accepted).toBeLessThan(cases * 0.6);
      });
    }

    it('every receiver still accepts valid requests after the run', async () => {
      const problems = [];
      for (const fmt of rig.formats) problems.push(...(await healthCheck(fmt)));
      expect(problems).toEqual([]);
    });
  });
}
