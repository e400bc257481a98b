/**
 * The evidence report attacked: hostile values in every field that comes
 * from records (HTML, SVG, `</style>`, `javascript:`, bidi controls), the
 * period and gap only as bound parameters, the files written without
 * following planted symlinks, and `verify --report` against notes and
 * directories an attacker shaped.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand, writeReportFiles } from '../bin/commands/report.ts';
import { verifyReportDir } from '../bin/commands/verify-evidence.ts';
import { buildReportFacts } from '../lib/report/facts.ts';
import { renderHtml } from '../lib/report/html.ts';
import { reportNoteText, sha256Hex, signReport } from '../lib/report/sign.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../lib/tlog/keys.ts';
import { signNote } from '../lib/tlog/note.ts';
import { checkHtml } from './report-html-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-report-attack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RLO = '\u202e';
const HOSTILE = `</style><script>alert(1)</script></svg><a href="javascript:alert(2)">x</a>${RLO}gnp.exe\u2066\u0085`;
const FROM = 1_714_521_600_000_000_000n; // 2024-05-01
const TO = 1_717_200_000_000_000_000n; // 2024-06-01

/** Every column any figure or chart reads, each holding the hostile text (numbers where a chart sums). */
function hostileRow(): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const k of ['Service', 'Principal', 'Destination', 'Resource', 'Policy', 'Action', 'Subject', 'Surface', 'Role', 'Source', 'Reason', 'Note', 'StatusBy', 'Detector', 'Severity', 'Status', 'Table', 'Id']) {
    row[k] = `${k}:${HOSTILE}`;
  }
  Object.assign(row, { Day: HOSTILE, Outcome: 'denied', Events: '3', Records: '2', Denied: '5', Details: { [`<b>${RLO}key`]: HOSTILE, note: `multi\nline ${HOSTILE}` } });
  row[`col${HOSTILE}`] = 'x';
  return row;
}

const asked: Array<{ sql: string; params: Record<string, string> }> = [];
const hostileStore = {
  select: async (sql: string, params: Record<string, string>) => {
    asked.push({ sql, params });
    return [hostileRow(), hostileRow()];
  },
};

async function hostileFacts() {
  return buildReportFacts(hostileStore, {
    fromNs: FROM,
    toNs: TO,
    gapMinutes: 17,
    source: { endpoint: `http://x/${HOSTILE}`, database: 'otel', user: `u${HOSTILE}` },
    signedBy: `key${RLO}`,
    integrity: { command: `trailhouse verify ${HOSTILE}`, ok: false, summary: HOSTILE, failures: [HOSTILE], remarks: [HOSTILE] },
  });
}

describe('report.html with hostile records', () => {
  it('escapes every record-borne field in tables and SVG, shows bidi and control characters as code points, and still parses', async () => {
    const html = renderHtml(await hostileFacts());
    checkHtml(html);
    expect(html.match(/<\/style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|<a href="javascript|javascript:alert\(2\)">/i);
    for (const c of [RLO, '\u2066', '\u0085']) expect(html.includes(c), `U+${c.charCodeAt(0).toString(16)}`).toBe(false);
    expect(html).toContain('[U+202E]gnp.exe[U+2066][U+0085]');
    expect(html).toContain('&lt;/style&gt;&lt;script&gt;');
    // The SVG labels too: the principals chart ends where it should.
    const svg = (html.match(/<svg[\s\S]*?<\/svg>/g) ?? []).find((s) => s.includes('denied principals'));
    expect(svg).toBeDefined();
    expect(svg).toContain('[U+202E]');
  });

  it('binds the period and the gap as parameters: no figure has them in its text', async () => {
    asked.length = 0;
    await hostileFacts();
    expect(asked.length).toBeGreaterThan(10);
    for (const { sql, params } of asked) {
      expect(sql).not.toContain(String(FROM));
      expect(sql).not.toContain(String(TO));
      expect(sql).not.toMatch(/\b17\b/);
      if (sql.includes('{from:Int64}')) expect(params).toMatchObject({ from: String(FROM), to: String(TO) });
      if (sql.includes('{gap:UInt32}')) expect(params.gap).toBe('17');
    }
    expect(asked.some((a) => a.sql.includes('{gap:UInt32}'))).toBe(true);
  });
});

describe('writing the report', () => {
  it('replaces a symlink planted in the output directory instead of writing through it, and drops a stale report.sig', () => {
    const out = join(dir, 'planted');
    mkdirSync(out);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(out, 'report.html'));
    symlinkSync(victim, join(out, 'report.json'));
    writeFileSync(join(out, 'report.sig'), 'an older signature');
    writeReportFiles(out, { json: Buffer.from('{}'), html: Buffer.from('<!DOCTYPE html>'), sig: null });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(join(out, 'report.html')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe('<!DOCTYPE html>');
    expect(() => lstatSync(join(out, 'report.sig'))).toThrow();
  });

  it('--out naming an existing file is refused before anything is read or written', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'keep me');
    let err = '';
    const code = await reportCommand(['--from', '2024-05-01T00:00:00Z', '--to', '2024-06-01T00:00:00Z', '--out', file, '--unsigned', '--endpoint', 'http://127.0.0.1:9'], {
      out: () => undefined,
      err: (s) => void (err += s),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/--out .* is not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });
});

describe('verify --report against shaped notes and directories', () => {
  const signer = loadOrCreateSigner(join(dir, 'trusted.key'), 'test/report');
  const other = loadOrCreateSigner(join(dir, 'other.key'), 'test/report');
  const keys = [verifierKeyOf(signer)];
  const period = { from: '2024-05-01T00:00:00.000000000Z', to: '2024-06-01T00:00:00.000000000Z' };
  const html = Buffer.from('<!DOCTYPE html><p>report</p>');
  const json = Buffer.from(JSON.stringify({ period }));

  function reportDir(name: string, sig: string): string {
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(join(d, 'report.html'), html);
    writeFileSync(join(d, 'report.json'), json);
    writeFileSync(join(d, 'report.sig'), sig);
    return d;
  }
  const run = (d: string) => {
    let out = '';
    const code = verifyReportDir(d, keys, { out: (s) => void (out += s), err: (s) => void (out += s) });
    return { code, out };
  };
  const files = { 'report.html': html, 'report.json': json };

  it('a genuine report verifies', () => {
    expect(run(reportDir('genuine', signReport(period, files, signer)))).toMatchObject({ code: 0 });
  });

  it('fails for a key that is not trusted, extra lines, and hashes of other file names', () => {
    expect(run(reportDir('untrusted', signReport(period, files, other))).out).toMatch(/FAILED signature/);
    const text = reportNoteText(period, { 'report.html': sha256Hex(html), 'report.json': sha256Hex(json) });
    expect(run(reportDir('extra', signNote(`${text}${sha256Hex(html)}  evil.html\n`, [signer]))).out).toMatch(/not an evidence report note/);
    const renamed = text.replace('  report.html', '  ../report.html');
    const r = run(reportDir('renamed', signNote(renamed, [signer])));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/does not name report\.html/);
  });

  it('refuses symlinks in the directory, even to the very bytes that were signed', () => {
    const d = reportDir('linked', signReport(period, files, signer));
    const copy = join(dir, 'elsewhere.html');
    writeFileSync(copy, html);
    rmSync(join(d, 'report.html'));
    symlinkSync(copy, join(d, 'report.html'));
    const r = run(d);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/report\.html: .*symbolic link/);
    const d2 = reportDir('linked-sig', 'placeholder');
    rmSync(join(d2, 'report.sig'));
    symlinkSync(join(d, 'report.sig'), join(d2, 'report.sig'));
    expect(run(d2)).toMatchObject({ code: 1, out: expect.stringMatching(/no signature: .*symbolic link/) });
  });
});
