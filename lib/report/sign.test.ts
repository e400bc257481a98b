import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigner, verifierKeyOf } from '../tlog/keys.ts';
import { signNote } from '../tlog/note.ts';
import { checkReport, sha256Hex, signReport } from './sign.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-report-sign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signer = loadOrCreateSigner(join(dir, 'k.key'), 'test/report');
const vkey = verifierKeyOf(signer);
const period = { from: '2024-05-01T00:00:00.000000000Z', to: '2024-06-01T00:00:00.000000000Z' };
const html = Buffer.from('<!DOCTYPE html><p>x</p>');
const json = Buffer.from(JSON.stringify({ period }));
const files = (h = html, j = json) => (name: string) => (name === 'report.html' ? h : name === 'report.json' ? j : null);

describe('report.sig', () => {
  it('is sha256sum lines under a header and the period, and verifies', () => {
    const note = signReport(period, { 'report.html': html, 'report.json': json }, signer);
    expect(note.split('\n').slice(0, 4)).toEqual(['trailhouse evidence report v1', `period ${period.from} ${period.to}`, `${sha256Hex(html)}  report.html`, `${sha256Hex(json)}  report.json`]);
    expect(checkReport(note, [vkey], files())).toMatchObject({ ok: true, period, signedBy: ['test/report'] });
  });

  it('fails for a missing file, a report.json of another period, a note of another kind, and a forged signature', () => {
    const note = signReport(period, { 'report.html': html, 'report.json': json }, signer);
    expect(checkReport(note, [vkey], (n) => (n === 'report.html' ? null : json)).lines).toContain('FAILED report.html: missing');
    const other = Buffer.from(JSON.stringify({ period: { ...period, to: '2024-07-01T00:00:00.000000000Z' } }));
    const shifted = signReport(period, { 'report.html': html, 'report.json': other }, signer);
    expect(checkReport(shifted, [vkey], files(html, other))).toMatchObject({ ok: false, lines: expect.arrayContaining([expect.stringMatching(/its period does not match the signed period/)]) });
    const checkpointLike = signNote('example.com/log\n3\nAAAA\n', [signer]);
    expect(checkReport(checkpointLike, [vkey], files()).lines.at(-1)).toMatch(/not an evidence report note/);
    // The text changed under the same signature line.
    expect(checkReport(note.replace('2024-05-01', '2024-04-01'), [vkey], files()).lines[0]).toMatch(/^FAILED signature: invalid signature for key test\/report\+/);
  });
});
