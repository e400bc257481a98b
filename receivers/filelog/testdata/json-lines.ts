/**
 * Lines for the bytes-path JSON parser's tests: the bench's Envoy and Istio
 * lines, Istio's JSON access log, every JSON value type, escapes, blanks,
 * numbers, START_TIME forms (HANDLED: the scanner handles them itself), and
 * what it leaves to the records path or what is no JSON object (OTHERS).
 */
export const ENVOY = (i: number) =>
  JSON.stringify({ start_time: '2024-05-14T09:12:03.456Z', method: 'GET', path: `/api/${i}`, protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', response_code_details: 'via_upstream', bytes_sent: 19, duration: 2, x_request_id: `2c6c1a0f-${i}`, authority: 'httpbin.foo:8000', upstream_host: '10.244.1.7:80', upstream_cluster: 'inbound|80||' });
export const ISTIO_TEXT = `[2024-05-14T09:12:10.000Z] "GET /status/1 HTTP/1.1" 200 - via_upstream - "-" 0 0 4 3 "-" "curl/8.5.0" "84961386-6d84-929d-98bd-000000000001" "httpbin:8000" "10.244.1.7:80" inbound|80|| 127.0.0.6:41211 10.244.1.7:80 10.244.0.12:46520 outbound_.8000_._.httpbin.foo.svc.cluster.local default`;
export const ISTIO_JSON =
  '{"authority":"reviews:9080","bytes_received":0,"bytes_sent":358,"connection_termination_details":null,"downstream_local_address":"10.96.1.5:9080","downstream_remote_address":"10.244.0.9:51744","duration":7,"method":"GET","path":"/reviews/0","protocol":"HTTP/1.1","request_id":"4f2c1b77-6b1a-9a11-b0f5-2ab2c2ad9e6b","requested_server_name":null,"response_code":200,"response_flags":"-","route_name":"default","start_time":"2024-05-14T09:12:03.456789Z","upstream_cluster":"outbound|9080||reviews.default.svc.cluster.local","upstream_host":"10.244.0.14:9080","upstream_local_address":"10.244.0.9:40346","upstream_service_time":"6","upstream_transport_failure_reason":null,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","x_forwarded_for":null}';

/** Lines the scanner handles itself (no fallback). */
export const HANDLED: string[] = [
  ENVOY(1), ENVOY(123456), ISTIO_JSON, '{}', '{ }', ' \t{}\t ', '{}\r',
  '{"s":"x","t":true,"f":false,"n":null,"i":42,"neg":-7,"d":1.5,"z":0,"nz":-0,"e":1e3,"E":2E-2,"big":123456789012345678901234,"max":9007199254740991,"over":9007199254740993,"huge":1e400,"tiny":-1e-400,"one":1.0,"frac":-0.000001}',
  '{"esc":"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t end","u":"\\u0041\\u00e9\\u0800\\uffff\\u0000","pair":"\\ud83d\\ude00 \\uD83D\\uDE00","raw":"é ü 日本 😀 \u2028"}',
  ' {\t"a"\n:\r"b" ,"c":\t1 }  ',
  '{"constructor":"x","toString":1,"hasOwnProperty":true,"valueOf":null,"prototype":"p","_proto_":"q","log.file":"not the file key"}',
  '{"start_time":"-"}', '{"start_time":""}', '{"start_time":null}', '{"start_time":17}', '{"start_time":"2024-05-14T09:12:03Z"}',
  '{"start_time":"2024-05-14T09:12:03.4Z"}', '{"start_time":"2024-05-14T09:12:03.45Z"}', '{"start_time":"2024-05-14T09:12:03.4567Z"}',
  '{"start_time":"2024-05-14T09:12:03.456789123Z"}', '{"start_time":"2024-05-14T09:12:03.4567891234Z"}', '{"start_time":"2024-02-30T23:59:59.999Z"}',
  '{"start_time":"1969-12-31T23:59:59.999Z"}', '{"start_time":"1970-01-01T00:00:00Z"}', '{"start_time":"2024-05-14T09:12:03+02:00"}',
  '{"start_time":"2024-05-14T24:00:00Z"}', '{"start_time":"2024-05-14 09:12:03Z"}', '{"start_time":"not a date"}', '{"start_time":"2024-05-14T09:12:03.Z"}',
  '{"start_time":"2024-13-14T09:12:03Z"}', '{"start_time":"0001-01-01T00:00:00Z"}', '{"start_time":"2024-05-14T09:12:60Z"}',
  '{"a":"' + 'x'.repeat(300) + '","b":"' + 'é'.repeat(100) + '"}',
  '{"' + 'k'.repeat(200) + '":"v","big":"' + 'y'.repeat(20_000) + '","e":"' + '\\n'.repeat(70) + '"}',
];

/** Lines left to the records path (or not objects): only the equality is checked. */
export const OTHERS: Array<string | Buffer> = [
  ISTIO_TEXT, '', ' ', 'plain text', '[1,2]', '"str"', '42', 'null', '{', '{"a":', '{"a":1', '{"a":1,}', '{"a" 1}', '{a:1}', "{'a':1}",
  '{"a":1}x', '{"a":1} {"b":2}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', '{"a":1e}', '{"a":-}', '{"a":NaN}', '{"a":Infinity}',
  '{"a":tru}', '{"a":nul}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\\u12G4"}', '{"a":"tab\there"}', '{"a":"nl\nhere"}',
  '{"a":"\\ud800"}', '{"a":"\\udc00"}', '{"a":"\\ud800x"}', '{"a":"\\ud800\\u0041"}',
  '{"a":{"b":1,"c":[1,"x",null,{"d":true}]},"e":[]}', '{"a":[]}', '{"a":{}}',
  '{"dup":1,"x":2,"dup":3}', '{"dup":1,"dup":null}', '{"start_time":"2024-05-14T09:12:03Z","start_time":"2020-01-01T00:00:00Z"}',
  '{"b":1,"1":2,"a":3}', '{"0":"zero"}', '{"01":"x"}', '{"__proto__":{"x":1}}', '{"__proto__":"p","a":1}',
  '{"k\\"ey":1}', '{"k\\u00e9y":2}', '{"":"empty key"}', '{"log.file.name":"spoof"}', '{"log.file.path":"spoof","a":1}',
  '\u000b{"a":1}', '\u000c{"a":1}', '\u00a0{"a":1}', '\ufeff{"a":1}', '\u2028{"a":1}', '{"a":1}\u00a0', '{"a":1}\u000b',
  '{"start_time":"2024-05-14T09:12:03\\u002e456Z"}',
  'z'.repeat(20_000), '{"nested":{"big":"' + 'y'.repeat(20_000) + '"}}',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]), Buffer.from([0x70, 0xff, 0x71]),
];
