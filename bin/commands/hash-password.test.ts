import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { hashPasswordCommand, type HashIo } from './hash-password.ts';

function io(inputs: string[], interactive = false) {
  const r = { out: '', err: '', prompts: [] as string[] };
  const h: HashIo = {
    out: (s) => void (r.out += s),
    err: (s) => void (r.err += s),
    readPassword: async (p) => {
      r.prompts.push(p);
      return inputs.shift() ?? '';
    },
    interactive,
  };
  return { r, h };
}

describe('trailhouse hash-password', () => {
  it('prints a bcrypt hash of stdin (one trailing newline dropped), and only the hash', async () => {
    const { r, h } = io(['s3cret-pw\n']);
    expect(await hashPasswordCommand(['--cost', '8'], h)).toBe(0);
    const hash = r.out.trim();
    expect(hash).toMatch(/^\$2b\$08\$[./A-Za-z0-9]{53}$/);
    expect(bcrypt.compareSync('s3cret-pw', hash)).toBe(true);
    expect(r.out + r.err).not.toContain('s3cret-pw');
  });

  it('prints ClickHouse\'s password_sha256_hex with --sha256', async () => {
    const { r, h } = io(['s3cret-pw']);
    expect(await hashPasswordCommand(['--sha256'], h)).toBe(0);
    expect(r.out).toBe(createHash('sha256').update('s3cret-pw').digest('hex') + '\n');
  });

  it('asks twice on a terminal and refuses a mismatch', async () => {
    const { r, h } = io(['first-CANARY', 'second-CANARY'], true);
    expect(await hashPasswordCommand(['--sha256'], h)).toBe(1);
    expect(r.prompts).toEqual(['Password: ', 'Again: ']);
    expect(r.out).toBe('');
    expect(r.err).not.toMatch(/CANARY/);
  });

  it('refuses a password on the command line without echoing it, an empty one, and one bcrypt would cut', async () => {
    for (const argv of [['hunter2'], ['--password', 'hunter2'], ['--password=hunter2']]) {
      const { r, h } = io(['x']);
      expect(await hashPasswordCommand(argv, h)).toBe(2);
      expect(r.err).not.toContain('hunter2');
      expect(r.out).toBe('');
    }
    const empty = io(['\n']);
    expect(await hashPasswordCommand([], empty.h)).toBe(2);
    const long = io(['x'.repeat(73)]);
    expect(await hashPasswordCommand([], long.h)).toBe(2);
    expect(long.r.err).toMatch(/72 bytes/);
  });
});
