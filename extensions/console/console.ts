/**
 * The `console` extension: the on-call console in a browser
 * (lib/console/), served by the pipeline. It reads the store named by
 * `store` with that store's users and roles (query_users) and serves the
 * triage of the alerts extension named by `alerts`. Listed in
 * service.extensions after the store and the alerts extension.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseClient } from '../../lib/clickhouse/client-lib.ts';
import type { Component, CreateSettings, ExtensionFactory, Host } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { loginThrottleDefaults } from '../../lib/clickhouse/query/login-throttle.ts';
import { openStore, type StoreLease } from '../../lib/clickhouse/store.ts';
import type { TriageService } from '../../lib/alerts/triage.ts';
import { ConsoleAuth } from '../../lib/console/auth.ts';
import { ConsoleQuery } from '../../lib/console/query.ts';
import { ConsoleServer } from '../../lib/console/server.ts';
import { integrityOf } from '../../lib/audit/shared-integrity.ts';
import { ownStoreSource, type OwnSource } from '../../lib/audit/self-verify-source.ts';
import { consoleSchema, defaultConsoleConfig, validateConsole, type ConsoleConfig } from './config.ts';

function isTriage(x: unknown): x is TriageService {
  return typeof x === 'object' && x !== null && typeof (x as TriageService).find === 'function' && typeof (x as TriageService).setStatus === 'function';
}

export class ConsoleExtension implements Component {
  readonly kind = 'console';
  private lease: StoreLease | undefined;
  private server: ConsoleServer | undefined;
  private auth: ConsoleAuth | undefined;
  private client: ClickHouseClient | undefined;
  private verifySource: OwnSource | undefined;

  constructor(private readonly settings: CreateSettings<ConsoleConfig>) {}

  /** The console's http(s)://host:port, once started. */
  get url(): string {
    return this.server?.url ?? '';
  }

  async start(host: Host): Promise<void> {
    const c = this.settings.config;
    const provider = storeProvider(host, c.store);
    let triage: TriageService | null = null;
    if (c.alerts) {
      const ext = host.getExtension(c.alerts);
      if (ext === undefined) throw new Error(`console: no started extension "${c.alerts}" (add it to service.extensions before console, or set console.alerts: null)`);
      if (!isTriage(ext)) throw new Error(`console: extension "${c.alerts}" is not an alerts extension`);
      triage = ext;
    }
    const access = provider.queryAccess ?? { users: null, throttle: loginThrottleDefaults() };
    const lease = openStore(provider.storeOptions());
    this.lease = lease;
    try {
      await lease.store.ready();
      const o = provider.storeOptions();
      if (lease.store.kind === 'server') {
        // Its own client, with the store's database as the default one: admitted queries name tables unqualified.
        this.client = clickhouseClient().createClient({ url: o.endpoint!, username: o.username || 'default', password: o.password, database: provider.database, request_timeout: 30_000, log: { level: clickhouseClient().ClickHouseLogLevel.OFF } });
      }
      this.auth = new ConsoleAuth(access.users, access.throttle, this.settings.logger);
      // The reports' verify run reads the pipeline's own store (its read-only sessions, or a server client).
      this.verifySource = ownStoreSource(lease.store, provider.database, lease.store.kind === 'server' ? o : undefined);
      this.server = new ConsoleServer({
        endpoint: c.endpoint,
        tls: c.tls,
        insecure: c.insecure,
        query: new ConsoleQuery(lease.store, provider.database, this.client),
        auth: this.auth,
        sessions: { lifetimeMs: c.session_lifetime, idleMs: c.session_idle, max: c.max_sessions },
        triage,
        logger: this.settings.logger,
        integrity: () => integrityOf(host),
        verifySource: this.verifySource,
      });
      await this.server.start();
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  readonly shutdown = once(async () => {
    const s = this.server;
    const a = this.auth;
    const l = this.lease;
    const c = this.client;
    const v = this.verifySource;
    this.client = undefined;
    this.verifySource = undefined;
    this.server = undefined;
    this.auth = undefined;
    this.lease = undefined;
    await s?.close();
    await a?.close();
    await c?.close();
    await v?.close();
    await l?.release();
  });
}

export const consoleFactory: ExtensionFactory<ConsoleConfig> = {
  kind: 'extension',
  type: 'console',
  schema: consoleSchema,
  defaultConfig: defaultConsoleConfig,
  validate: validateConsole,
  create: (settings) => new ConsoleExtension(settings),
};
