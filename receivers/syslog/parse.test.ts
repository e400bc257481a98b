import { describe, expect, it } from 'vitest';
import { getAttr, KvList } from '../../core/model.ts';
import { parseSyslog } from './parse.ts';
import { localToUtcMs } from './timezone.ts';

const o5424 = { protocol: 'rfc5424' as const, location: 'UTC', allowSkipPri: false };
const o3164 = { protocol: 'rfc3164' as const, location: 'UTC', allowSkipPri: false };

describe('RFC 5424', () => {
  it('reads every field, structured data with escapes, the BOM before MSG', () => {
    const r = parseSyslog('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="App\\"x\\]"][b@1 k="v"] \uFEFFAn application event', o5424, 1n)!;
    expect(r.body).toBe('An application event');
    expect(r.timeUnixNano).toBe(1065910455003000000n);
    expect(r.severityNumber).toBe(10);
    expect(r.severityText).toBe('notice');
    expect(getAttr(r.attributes, 'priority')).toBe(165n);
    expect(getAttr(r.attributes, 'facility')).toBe(20n);
    expect(getAttr(r.attributes, 'version')).toBe(1n);
    expect(getAttr(r.attributes, 'hostname')).toBe('mymachine.example.com');
    expect(getAttr(r.attributes, 'appname')).toBe('evntslog');
    expect(getAttr(r.attributes, 'proc_id')).toBe('1234');
    expect(getAttr(r.attributes, 'msg_id')).toBe('ID47');
    expect(getAttr(r.attributes, 'structured_data')).toEqual(
      new KvList([
        { key: 'exampleSDID@32473', value: new KvList([{ key: 'iut', value: '3' }, { key: 'eventSource', value: 'App"x]' }]) },
        { key: 'b@1', value: new KvList([{ key: 'k', value: 'v' }]) },
      ]),
    );
  });

  it('nil fields are left out; an offset time is converted; no MSG gives an empty body', () => {
    const r = parseSyslog('<11>1 2024-05-14T09:12:05.123456+02:00 - - - - -', o5424, 1n)!;
    expect(r.timeUnixNano).toBe(BigInt(Date.UTC(2024, 4, 14, 7, 12, 5)) * 1_000_000n + 123456000n);
    expect(r.attributes.map((a) => a.key)).toEqual(['priority', 'facility', 'version']);
    expect(r.body).toBe('');
    expect(r.severityText).toBe('err');
  });

  it('refuses what is not RFC 5424', () => {
    for (const bad of ['no pri', '<999>1 - - - - - -', '<13>x - - - - - -', '<13>1 yesterday h a p m -', '<13>1 - h a p m [broken', '<13>1 - h a p m -x']) {
      expect(parseSyslog(bad, o5424, 1n), bad).toBeUndefined();
    }
  });
});

describe('RFC 3164', () => {
  it('reads time, host, tag[pid] and message; the year is this one', () => {
    const r = parseSyslog('<34>Oct  1 22:14:15 mymachine su[230]: \'su root\' failed for lonvick', o3164, 1n)!;
    expect(getAttr(r.attributes, 'hostname')).toBe('mymachine');
    expect(getAttr(r.attributes, 'appname')).toBe('su');
    expect(getAttr(r.attributes, 'proc_id')).toBe('230');
    expect(r.body).toBe("'su root' failed for lonvick");
    expect(r.severityText).toBe('crit');
    const d = new Date(Number(r.timeUnixNano / 1_000_000n));
    expect([d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()]).toEqual([9, 1, 22, 14]);
  });

  it('an RFC 3339 time (rsyslog ForwardFormat) and a location', () => {
    const r = parseSyslog('<13>2024-05-14T09:12:05.5Z web-1 app: hello', o3164, 1n)!;
    expect(r.timeUnixNano).toBe(1715677925500000000n);
    expect(r.body).toBe('hello');
    expect(localToUtcMs(2024, 0, 15, 12, 0, 0, 'America/New_York')).toBe(Date.UTC(2024, 0, 15, 17, 0, 0));
    expect(localToUtcMs(2024, 6, 15, 12, 0, 0, 'America/New_York')).toBe(Date.UTC(2024, 6, 15, 16, 0, 0));
  });

  it('allow_skip_pri_header reads a line without PRI (no severity)', () => {
    const r = parseSyslog('Oct  1 22:14:15 host app: x', { ...o3164, allowSkipPri: true }, 1n)!;
    expect(r.body).toBe('x');
    expect(r.severityNumber).toBe(0);
    expect(parseSyslog('Oct  1 22:14:15 host app: x', o3164, 1n)).toBeUndefined();
  });
});
