import { describe, expect, it } from 'vitest';
import { parseIstioTextLine } from './istio-text.ts';
import { ISTIO_LINES } from '../../processors/audit/testdata/fixtures.ts';

describe('parseIstioTextLine', () => {
  it('reads every field of the default format, quoted fields with spaces included', () => {
    expect(parseIstioTextLine(ISTIO_LINES.tlsVerifyFailed + '\n')).toEqual({
      start_time: '2024-05-14T09:12:05.000Z',
      method: 'GET',
      path: '/reviews/1',
      protocol: 'HTTP/1.1',
      response_code: '503',
      response_flags: 'UF',
      response_code_details: 'upstream_reset_before_response_started{connection_failure,TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED}',
      connection_termination_details: '',
      upstream_transport_failure_reason: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
      bytes_received: '0',
      bytes_sent: '91',
      duration: '5',
      upstream_service_time: '',
      x_forwarded_for: '',
      user_agent: 'Go-http-client/1.1',
      x_request_id: 'b0c8a1d2-5e6f-4a1b-9c2d-3e4f5a6b7c8d',
      authority: 'reviews:9080',
      upstream_host: '10.244.2.9:9080',
      upstream_cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      upstream_local_address: '',
      downstream_local_address: '10.96.14.2:9080',
      downstream_remote_address: '10.244.0.5:40000',
      requested_server_name: '',
      route_name: 'default',
    });
  });

  it('TCP lines ("- - -") and the 1.3-1.8 format', () => {
    expect(parseIstioTextLine(ISTIO_LINES.tcpRbacDenied)).toMatchObject({ method: '', path: '', protocol: '', response_code: '0', connection_termination_details: 'rbac_access_denied_matched_policy[ns[db]-policy[deny-all]-rule[0]]' });
    expect(parseIstioTextLine(ISTIO_LINES.legacyAdmin)).toMatchObject({ path: '/admin/config', response_code: '200', mixer_status: '', user_agent: 'curl/7.73.0', route_name: 'default' });
  });

  it('user agents with spaces and quotes inside (a quote ends a field only before a space)', () => {
    const line = ISTIO_LINES.ok200.replace('"curl/8.5.0"', '"Mozilla/5.0 (compatible; "bot")"');
    expect(parseIstioTextLine(line)?.user_agent).toBe('Mozilla/5.0 (compatible; "bot")');
  });

  it('rejects other text', () => {
    expect(parseIstioTextLine('[2024-05-14] something happened in the app, nothing to see here at all')).toBeUndefined();
    expect(parseIstioTextLine('[2024-05-14T09:12:05.000Z] "GET / HTTP/1.1" abc - - - "-" 0 0 0 - "-" "-" "-" "-" "-" - - - - - -')).toBeUndefined();
    expect(parseIstioTextLine('')).toBeUndefined();
  });
});
