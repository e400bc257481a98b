import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSigner, readVerifiersFile, rememberVerifier, signerFromPrivateKey, verifierKeyOf, verifiersFileOf } from './keys.ts';
import { openNote, parseVerifierKey, signNote } from './note.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tlog-keys-'));

describe('key files', () => {
  it('first use creates dirs 0700 and the file 0600 holding a Go private key string; later uses load the same key', () => {
    const dir = tmp();
    const file = join(dir, 'a', 'b', 'audit.key');
    const s = loadOrCreateSigner(file, 'host-1/trailhouse');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^PRIVATE\+KEY\+host-1\/trailhouse\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
    expect(text).toContain(`+${s.keyId.toString(16).padStart(8, '0')}+`);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['audit.key']); // no temporary file left
    const again = loadOrCreateSigner(file, 'host-1/trailhouse');
    expect(again.publicKey).toEqual(s.publicKey);
    expect(verifierKeyOf(again)).toBe(verifierKeyOf(s));
    // What it signs opens with the published verifier key.
    const note = signNote('o\n1\n', [again]);
    expect(openNote(note, [parseVerifierKey(verifierKeyOf(s))]).signatures[0].verified).toBe(true);
    // The private key is not a property of the signer (not printed, not serialised).
    expect(JSON.stringify(s)).not.toContain(text.split('+')[4].trim().slice(0, 20));
    expect(signerFromPrivateKey(text).keyId).toBe(s.keyId);
  });

  it('refuses a key file group or others may access, saying so', () => {
    const file = join(tmp(), 'k.key');
    loadOrCreateSigner(file, 'n');
    chmodSync(file, 0o644);
    expect(() => loadOrCreateSigner(file, 'n')).toThrow(/mode 0644.*chmod 600/);
    chmodSync(file, 0o620);
    expect(() => loadOrCreateSigner(file, 'n')).toThrow(/mode 0620/);
    chmodSync(file, 0o400);
    expect(loadOrCreateSigner(file, 'n').name).toBe('n');
  });

  it('refuses a corrupt key file, an empty one, and one of another name; never overwrites it', () => {
    const file = join(tmp(), 'k.key');
    writeFileSync(file, 'PRIVATE+KEY+n+00000000+garbage\n', { mode: 0o600 });
    expect(() => loadOrCreateSigner(file, 'n')).toThrow(/unusable.*malformed private key/);
    writeFileSync(file, '', { mode: 0o600 });
    expect(() => loadOrCreateSigner(file, 'n')).toThrow(/unusable/);
    expect(readFileSync(file, 'utf8')).toBe('');
    const other = join(tmp(), 'o.key');
    loadOrCreateSigner(other, 'alice');
    expect(() => loadOrCreateSigner(other, 'bob')).toThrow(/holds the key of "alice", not "bob"/);
    expect(() => loadOrCreateSigner(join(tmp(), 'x.key'), 'bad name')).toThrow(/invalid key name/);
    expect(() => loadOrCreateSigner(tmp(), 'n')).toThrow(/not a regular file/);
  });

  it('concurrent first creation by several processes gives one key, used by all', async () => {
    const file = join(tmp(), 'keys', 'race.key');
    const keys = fileURLToPath(new URL('./keys.ts', import.meta.url));
    const startAt = Date.now() + 2500;
    // Each child waits for the same instant, then creates: they race on the link.
    const script = `import { loadOrCreateSigner, verifierKeyOf } from ${JSON.stringify(keys)};
      while (Date.now() < ${startAt}) {}
      process.stdout.write(verifierKeyOf(loadOrCreateSigner(${JSON.stringify(file)}, 'race')));`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (c: Buffer) => (out += c.toString()));
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exit ${code}: ${err}`))));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toMatch(/^race\+[0-9a-f]{8}\+/);
    expect(verifierKeyOf(loadOrCreateSigner(file, 'race'))).toBe(results[0]);
    expect(readdirSync(join(file, '..'))).toEqual(['race.key']);
  });
});

describe('verifiers files', () => {
  it('next to the key file; comments and blank lines skipped; a key is remembered once; a bad line is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'th-verifiers-'));
    const file = verifiersFileOf(join(dir, 'audit.key'));
    expect(file).toBe(join(dir, 'verifiers'));
    const a = verifierKeyOf(loadOrCreateSigner(join(dir, 'a.key'), 'a.example/log'));
    const b = verifierKeyOf(loadOrCreateSigner(join(dir, 'b.key'), 'b.example/log'));
    writeFileSync(file, `# retired 2026-01\n\n${a}\n`);
    expect(rememberVerifier(file, a)).toEqual([a]);
    expect(rememberVerifier(file, b)).toEqual([a, b]);
    expect(rememberVerifier(file, b)).toEqual([a, b]);
    expect(readVerifiersFile(file)).toEqual([a, b]);
    writeFileSync(file, `${a}\nnot+a+key\n`);
    expect(() => readVerifiersFile(file)).toThrow(`${file}:2: not a verifier key`);
  });
});
