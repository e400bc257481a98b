import { describe, expect, it } from 'vitest';
import { clientInfo, httpMetadata, metadataValues, peerIp, setClientInfo } from './client.ts';
import { cloneLogs, type LogsData } from './model.ts';

describe('client info', () => {
  it('peer addresses as the sender\'s IP', () => {
    expect(['ipv4:10.0.0.7:53211', 'ipv6:[::1]:4317', '[2001:db8::1]:80', '::ffff:127.0.0.1', '127.0.0.1:9', '::1', '', undefined].map(peerIp)).toEqual([
      '10.0.0.7',
      '::1',
      '2001:db8::1',
      '127.0.0.1',
      '127.0.0.1',
      '::1',
      '',
      '',
    ]);
  });

  it('rides on the payload, survives fan-out copies, looked up without regard to case', () => {
    const d: LogsData = { resourceLogs: [] };
    setClientInfo(d, { address: '10.0.0.7', metadata: httpMetadata({ 'x-tenant': ['acme'], empty: undefined }) });
    expect(Object.keys(d)).toEqual(['resourceLogs']); // not enumerable: never serialized
    const copy = cloneLogs(d);
    expect(metadataValues(clientInfo(copy), 'X-Tenant')).toEqual(['acme']);
    expect(metadataValues(clientInfo(copy), 'empty')).toEqual([]);
    expect(metadataValues(undefined, 'x-tenant')).toEqual([]);
  });
});
