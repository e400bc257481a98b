/** Values from records printed by the on-call commands cannot drive the terminal. */
import { describe, expect, it } from 'vitest';
import { printable, table } from './oncall-http.ts';

describe('printable / table', () => {
  it('shows escape sequences, controls and bidi characters as code points', () => {
    const hostile = 'spiffe://x\x1b]0;owned\x07\x1b[2J\r\nfake row\u202eevil\u0085';
    const out = table(['PRINCIPAL', 'REASON'], [[hostile, 'ok']]);
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(out.split('\n')).toHaveLength(3); // header, one row, the final newline
    expect(printable('a\x1bb\u202ec')).toBe('a\\u{1b}b\\u{202e}c');
    expect(printable('plain ü text')).toBe('plain ü text');
  });
});
