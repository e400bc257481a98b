/**
 * Who sent a payload (the Collector's `client.Info`): the sender's address,
 * and, with a receiver's `include_metadata`, its request headers or gRPC
 * metadata. It rides in the payload's envelope (core/payload.ts `client`), so
 * processors that change a payload in place keep it, and fan-out copies
 * carry it.
 *
 * As in the Collector, a batch made of many senders' payloads has no client:
 * the batch processor keeps only the metadata it batches by (`metadata_keys`),
 * so `from_context` after a batch sees those keys and nothing else.
 */
import type { Metadata } from '@grpc/grpc-js';

export interface ClientInfo {
  /** The sender's IP address ('' when unknown, e.g. after a batch). */
  readonly address: string;
  /** Header / metadata values by lowercase name. */
  readonly metadata: ReadonlyMap<string, readonly string[]>;
  /** Who the receiver's authenticator says sent it (the Collector's `client.Info.Auth`); absent without `auth`. */
  readonly auth?: ClientAuth;
}

/**
 * An authenticated sender, as an authenticator extension vouched for it
 * (core/auth.ts). Never holds the credential itself.
 */
export interface ClientAuth {
  /** basicauth: the user name; bearertokenauth: the token's `subject` (default: the extension id). */
  readonly subject: string;
  /** The id of the extension that authenticated it (`bearertokenauth/tenants`). */
  readonly authenticator: string;
  /** More attributes by name (basicauth: `username`, as the Collector's), for `from_context: auth.<name>`. */
  readonly attributes: ReadonlyMap<string, string>;
}

/** `from_context: auth.<name>`: `subject`, `authenticator` or an attribute; undefined when absent. */
export function authValue(info: ClientInfo | undefined, name: string): string | undefined {
  const a = info?.auth;
  if (!a) return undefined;
  if (name === 'subject') return a.subject;
  if (name === 'authenticator') return a.authenticator;
  return a.attributes.get(name);
}

/**
 * `info` with the authenticated sender, and without the header that carried
 * the credential: the credential must not ride on with the payload (where
 * include_metadata, batch metadata_keys or a Kafka header could store it).
 */
export function withAuth(info: ClientInfo, authed: { auth: ClientAuth; header: string } | undefined): ClientInfo {
  if (!authed) return info;
  let metadata = info.metadata;
  if (metadata.has(authed.header)) {
    const m = new Map(metadata);
    m.delete(authed.header);
    metadata = m;
  }
  return { address: info.address, metadata, auth: authed.auth };
}

export const NO_METADATA: ReadonlyMap<string, readonly string[]> = new Map();

/** The values of `key` (any case); empty when absent. */
export function metadataValues(info: ClientInfo | undefined, key: string): readonly string[] {
  return info?.metadata.get(key.toLowerCase()) ?? [];
}

/** The IP part of a peer address (`ipv4:10.0.0.7:53211`, `[::1]:4317`, `::ffff:127.0.0.1`). */
export function peerIp(peer: string | undefined): string {
  if (!peer) return '';
  let p = peer.replace(/^ipv[46]:/, '');
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(p);
  if (bracket) p = bracket[1]!;
  else if (/^[^:]+:\d+$/.test(p)) p = p.slice(0, p.lastIndexOf(':'));
  return p.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** HTTP request headers as client metadata (Node gives names in lowercase). */
export function httpMetadata(headers: Record<string, string[] | undefined>): ReadonlyMap<string, readonly string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of Object.entries(headers)) if (v) m.set(k, v);
  return m;
}

/** gRPC metadata as client metadata (text entries; `-bin` ones are skipped). */
export function grpcMetadata(md: Metadata): ReadonlyMap<string, readonly string[]> {
  const m = new Map<string, string[]>();
  for (const [k, values] of Object.entries(md.toJSON())) {
    const text = values.filter((v): v is string => typeof v === 'string');
    if (text.length) m.set(k, text);
  }
  return m;
}

/** The client info of an HTTP request (headers only with include_metadata). */
export function httpClient(req: { socket: { remoteAddress?: string }; headersDistinct: Record<string, string[] | undefined> }, includeMetadata: boolean): ClientInfo {
  return { address: peerIp(req.socket.remoteAddress), metadata: includeMetadata ? httpMetadata(req.headersDistinct) : NO_METADATA };
}

/** The client info of a gRPC call (metadata only with include_metadata). */
export function grpcClient(call: { getPeer(): string; metadata: Metadata }, includeMetadata: boolean): ClientInfo {
  return { address: peerIp(call.getPeer()), metadata: includeMetadata ? grpcMetadata(call.metadata) : NO_METADATA };
}
