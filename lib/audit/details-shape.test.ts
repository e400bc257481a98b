// Events that differ only in their values share one hidden class for their
// details (see testdata/details-shape.ts): a spread copy of the common
// details, extended afterwards with event_id, gave every event a map of its own.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('audit event details', () => {
  it('share one hidden class per key list, from records and from bytes', () => {
    const script = fileURLToPath(new URL('./testdata/details-shape.ts', import.meta.url));
    const out = JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], { encoding: 'utf8' })) as Record<string, { events: number; shared: number }>;
    expect(out.records!.events).toBe(400);
    expect(out.records!.shared).toBe(out.records!.events);
    expect(out.bytes!.events).toBe(400);
    expect(out.bytes!.shared).toBe(out.bytes!.events);
  }, 30_000);
});
