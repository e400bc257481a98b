import { describe, expect, it } from 'vitest';
import { globToRegExp } from './glob.ts';

describe('globToRegExp', () => {
  it('* within a segment, ** across, trailing /** matches the bare prefix', () => {
    const admin = globToRegExp('/admin/**');
    expect(['/admin', '/admin/', '/admin/users/7'].map((p) => admin.test(p))).toEqual([true, true, true]);
    expect(['/administrator', '/x/admin'].map((p) => admin.test(p))).toEqual([false, false]);
    const one = globToRegExp('/api/*/keys');
    expect([one.test('/api/v1/keys'), one.test('/api/v1/x/keys')]).toEqual([true, false]);
    expect(globToRegExp('/a.b?').test('/a.bc')).toBe(true);
    expect(globToRegExp('/a.b?').test('/aXbc')).toBe(false);
    expect(globToRegExp('*.istio.io').test('security.istio.io')).toBe(true);
  });
});
