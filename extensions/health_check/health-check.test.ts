import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { settingsFor } from '../../test/component-config.ts';
import { errorsOf } from '../../test/core/config-errors.ts';
import { healthCheckFactory, type HealthCheckConfig, type HealthCheckExtension } from './health-check.ts';

async function started(user: Record<string, unknown>) {
  const h = healthCheckFactory.create(settingsFor<HealthCheckConfig>(healthCheckFactory as Factory, { endpoint: '127.0.0.1:0', ...user })) as HealthCheckExtension;
  await h.start();
  return h;
}

describe('health_check', () => {
  it('503 while the pipelines start or stop, 200 with the Collector\'s JSON while they run; other paths 404', async () => {
    const h = await started({ path: '/health/status' });
    try {
      const url = `http://${h.address}/health/status`;
      const before = await fetch(url);
      expect(before.status).toBe(503);
      expect(await before.json()).toMatchObject({ status: 'Server not available' });
      h.ready();
      const up = await fetch(url);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'Server available', upSince: expect.any(String) });
      expect((await fetch(`http://${h.address}/`)).status).toBe(404);
      h.notReady();
      expect((await fetch(url)).status).toBe(503);
    } finally {
      await h.shutdown();
    }
  });

  it('response_body replaces the JSON with static text', async () => {
    const h = await started({ response_body: { healthy: 'I am fine', unhealthy: 'not yet' } });
    try {
      const url = `http://${h.address}/`;
      expect(await (await fetch(url)).text()).toBe('not yet');
      h.ready();
      const res = await fetch(url);
      expect([res.status, await res.text()]).toEqual([200, 'I am fine']);
    } finally {
      await h.shutdown();
    }
  });

  it('check_collector_pipeline is accepted disabled, refused enabled with the reason', () => {
    const yaml = (enabled: boolean) => `
receivers:
  otlp: {protocols: {http: {}}}
exporters:
  debug:
extensions:
  health_check:
    check_collector_pipeline: {enabled: ${enabled}, interval: 5m, exporter_failure_threshold: 5}
service:
  extensions: [health_check]
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`;
    expect(errorsOf(yaml(false))).toEqual([]);
    expect(errorsOf(yaml(true))).toEqual([expect.stringMatching(/^extensions\.health_check\.check_collector_pipeline\.enabled: not supported \(the Collector deprecated it/)]);
  });
});
