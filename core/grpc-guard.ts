/**
 * The receive bounds of core/inflight.ts on a grpc-js server: grpc-js gathers
 * a request message before the handler sees it and offers no hook for the
 * bytes on their way, so we watch its HTTP/2 streams ourselves (its listening
 * http2 servers, after bind). A stream that holds more than its client's or
 * the listener's share of unfinished request bytes is reset with
 * ENHANCE_YOUR_CALM (clients report RESOURCE_EXHAUSTED); one whose request
 * stops arriving for `body_idle_timeout` is reset with CANCEL; connections
 * beyond `max_connections` are closed at once. Once its request is received
 * a stream is no longer watched (a slow pipeline is not an idle client).
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { InflightBudget, type ReceiveLimits } from './inflight.ts';

/** Applies `limits` to the listeners `server` has bound; returns the listener's budget. */
export function guardGrpc(server: grpc.Server, limits: ReceiveLimits): InflightBudget {
  const budget = new InflightBudget(limits);
  const listeners = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  // Fail closed: a grpc-js without this map would leave the bounds unenforced.
  if (!(listeners instanceof Map)) throw new Error('cannot apply receive limits: @grpc/grpc-js no longer exposes its http2 servers');
  for (const listener of listeners.keys()) {
    if (limits.max_connections > 0) listener.maxConnections = limits.max_connections;
    listener.on('stream', (stream: ServerHttp2Stream) => watch(stream, budget));
  }
  return budget;
}

function watch(stream: ServerHttp2Stream, budget: InflightBudget): void {
  const client = stream.session?.socket?.remoteAddress ?? '';
  const idleMs = budget.limits.body_idle_timeout;
  let held = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    if (idle) clearTimeout(idle);
    budget.give(client, held);
    held = 0;
  };
  const idle = idleMs > 0
    ? setTimeout(() => {
      finish();
      stream.close(constants.NGHTTP2_CANCEL);
    }, idleMs)
    : undefined;
  stream.on('data', (c: Buffer) => {
    if (done) return;
    idle?.refresh();
    if (budget.take(client, c.length)) {
      finish();
      stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      return;
    }
    held += c.length;
  });
  stream.once('end', finish);
  stream.once('close', finish);
}
