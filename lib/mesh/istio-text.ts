/**
 * Parses Istio's default TEXT access-log line: what the `envoyOtelAls`
 * provider (and the file logger) sends as the log body when no labels are
 * configured. The format, from Istio 1.9 on (pilot's EnvoyTextLogFormat):
 *
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
 *   %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 *   "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 *   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 *   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
 *   %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
 *   %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 *
 * Istio 1.3–1.8 had `"%DYNAMIC_METADATA(istio.mixer:status)%"` where the two
 * details fields are now; that older line is recognised too (without them).
 * Fields come back under the access-log operators' snake_case names, the same
 * names the Envoy OpenTelemetry logger's attributes use, with Envoy's `-`
 * (not set) turned into ''.
 */

export type AccessLogFields = Record<string, string>;

const CURRENT = [
  'response_code',
  'response_flags',
  'response_code_details',
  'connection_termination_details',
  'upstream_transport_failure_reason',
  'bytes_received',
  'bytes_sent',
  'duration',
  'upstream_service_time',
  'x_forwarded_for',
  'user_agent',
  'x_request_id',
  'authority',
  'upstream_host',
  'upstream_cluster',
  'upstream_local_address',
  'downstream_local_address',
  'downstream_remote_address',
  'requested_server_name',
  'route_name',
] as const;

// 1.3–1.8: mixer status in place of the two details fields.
const LEGACY = ['response_code', 'response_flags', 'mixer_status', ...CURRENT.slice(4)] as const;

interface Token {
  text: string;
  quoted: boolean;
}

/** Splits into `[bracketed]`, `"quoted"` (ends at a quote followed by a space or the end) and bare tokens. */
function tokenize(line: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === '[' && out.length === 0) {
      const end = line.indexOf('] ', i);
      if (end < 0) return undefined;
      out.push({ text: line.slice(i + 1, end), quoted: false });
      i = end + 1;
    } else if (c === '"') {
      let end = line.indexOf('"', i + 1);
      while (end >= 0 && end + 1 < n && line[end + 1] !== ' ') end = line.indexOf('"', end + 1);
      if (end < 0) return undefined;
      out.push({ text: line.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let end = line.indexOf(' ', i);
      if (end < 0) end = n;
      out.push({ text: line.slice(i, end), quoted: false });
      i = end;
    }
  }
  return out;
}

const dash = (s: string): string => (s === '-' ? '' : s);

/** The fields of one line, or undefined when the line is not in Istio's default format. */
export function parseIstioTextLine(body: string): AccessLogFields | undefined {
  if (body.length < 40 || body[0] !== '[') return undefined;
  const toks = tokenize(body.trimEnd());
  if (!toks || toks.length < 2 || !toks[1]!.quoted) return undefined;
  let names: readonly string[];
  if (toks.length === 2 + CURRENT.length && toks[6]!.quoted) names = CURRENT;
  else if (toks.length === 2 + LEGACY.length && toks[4]!.quoted && toks[5]!.quoted) names = LEGACY;
  else return undefined;
  if (!/^\d+$/.test(toks[2]!.text)) return undefined;

  const f: AccessLogFields = { start_time: toks[0]!.text };
  // The request line: METHOD PATH PROTOCOL ("- - -" for TCP).
  const req = toks[1]!.text;
  const a = req.indexOf(' ');
  const b = req.lastIndexOf(' ');
  if (a < 0 || b <= a) return undefined;
  f.method = dash(req.slice(0, a));
  f.path = dash(req.slice(a + 1, b));
  f.protocol = dash(req.slice(b + 1));
  for (let k = 0; k < names.length; k++) f[names[k]!] = dash(toks[k + 2]!.text);
  return f;
}
