import { describe, expect, it } from 'vitest';
import { WakeableSleep } from './wakeable-sleep.ts';

describe('WakeableSleep', () => {
  it('waits the time, or ends at once when woken; a wake with no wait under way changes nothing', async () => {
    const s = new WakeableSleep();
    s.wake();
    let t = Date.now();
    await s.sleep(60);
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    t = Date.now();
    const waiting = s.sleep(10_000);
    setTimeout(() => s.wake(), 20);
    await waiting;
    expect(Date.now() - t).toBeLessThan(2000);
  });
});
