/**
 * The kafka receiver's log-only encodings, as the Collector's kafka receiver
 * defines them for messages that are not OTLP (Filebeat's Kafka output,
 * Fluent Bit's, any app writing lines to a topic). One message = one log
 * record, observed time = when it was read, no timestamp:
 *   raw            → the value's bytes as a bytes body
 *   text           → the value decoded as UTF-8 (invalid bytes as U+FFFD) as a string body;
 *   text_<charset> → decoded with that charset instead (any WHATWG label: text_shift_jis, text_latin1, text_utf-16le)
 *   json           → the value parsed as a JSON object, as a map body (not an object: a bad message)
 * Beyond the Collector (so `audit` classifies a shipped Envoy access log as
 * over OTLP, lib/mesh/json-line.ts): a text line that is a JSON object, or
 * a json body's string `message` field that is one (Filebeat's event shape),
 * adds its fields as attributes.
 */
import { blankLogRecord, emptyResource, emptyScope, type KvList, type LogsData } from '../../core/model.ts';
import { ENCODINGS, type Encoding } from '../../lib/kafka/encoding.ts';
import { addJsonLineAttributes, jsonToAnyValue } from '../../lib/mesh/json-line.ts';

export type LogEncoding = 'raw' | 'text' | 'json' | `text_${string}`;
export type ReceiverEncoding = Encoding | LogEncoding;

export function isLogEncoding(e: string): e is LogEncoding {
  return e === 'raw' || e === 'text' || e === 'json' || e.startsWith('text_');
}

/** Why `e` is not an encoding for `signal`, or undefined when it is. */
export function encodingProblem(e: string, signal: 'logs' | 'traces'): string | undefined {
  if ((ENCODINGS as readonly string[]).includes(e)) return undefined;
  if (!isLogEncoding(e)) return `unknown encoding ${JSON.stringify(e)}: use ${ENCODINGS.join(', ')}${signal === 'logs' ? ', raw, text, text_<charset> or json' : ''}`;
  if (signal === 'traces') return `${e} is a logs-only encoding (as in the Collector): traces topics carry otlp_proto or otlp_json`;
  if (e.startsWith('text_')) {
    try {
      new TextDecoder(e.slice(5));
    } catch {
      return `unknown charset ${JSON.stringify(e.slice(5))} in ${e}: use a WHATWG encoding label (utf-8, latin1, shift_jis, utf-16le, …)`;
    }
  }
  return undefined;
}

const decoders = new Map<string, TextDecoder>();

function decoderFor(e: LogEncoding): TextDecoder {
  const label = e === 'text' ? 'utf-8' : e.slice(5);
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label)));
  return d;
}

/** One message value → one log record in its own resource (header_extraction may add resource attributes). */
export function decodeLogMessage(e: LogEncoding, v: Buffer): LogsData {
  const r = blankLogRecord();
  r.observedTimeUnixNano = BigInt(Date.now()) * 1_000_000n;
  if (e === 'raw') {
    r.body = new Uint8Array(v);
  } else if (e === 'json') {
    let o: unknown;
    try {
      o = JSON.parse(v.toString('utf8'));
    } catch (err) {
      throw new Error(`json encoding: not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('json encoding: the message is not a JSON object');
    const body = jsonToAnyValue(o) as KvList;
    r.body = body;
    const message = (o as Record<string, unknown>).message;
    if (typeof message === 'string') addJsonLineAttributes(message, r.attributes);
  } else {
    const line = decoderFor(e).decode(v);
    r.body = line;
    addJsonLineAttributes(line, r.attributes);
  }
  return { resourceLogs: [{ resource: emptyResource(), schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: [r] }] }] };
}
