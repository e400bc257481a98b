import { describe, expect, it } from 'vitest';
import { httpMetadata, metadataValues, peerIp } from './client.ts';
import { Payload } from './payload.ts';

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
    const d = Payload.logs({ resourceLogs: [] }, { address: '10.0.0.7', metadata: httpMetadata({ 'x-tenant': ['acme'], empty: undefined }) });
    expect(Object.keys(d.records())).toEqual(['resourceLogs']); // beside the records: never serialized with them
    const copy = d.copy();
    expect(metadataValues(copy.client, 'X-Tenant')).toEqual(['acme']);
    expect(metadataValues(copy.client, 'empty')).toEqual([]);
    expect(metadataValues(undefined, 'x-tenant')).toEqual([]);
  });
});
