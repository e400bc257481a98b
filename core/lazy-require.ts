/**
 * A CommonJS dependency loaded on its first use instead of at start-up.
 * The bundle imports every component, so a static import of kafkajs, the
 * ClickHouse client or the OpenTelemetry SDK would load them into every
 * process, a host agent that uses none of them included (about 11 MiB of
 * resident memory together). Types still come from `import type`.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(id) as T);
}
