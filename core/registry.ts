/**
 * The component registry: factories by kind and type. `components.ts` at the
 * project root registers every built-in component; tests may build their own.
 */
import type { Factory, Kind } from './component.ts';

export class Registry {
  private readonly byKind = new Map<Kind, Map<string, Factory>>();

  constructor(factories: readonly Factory[] = []) {
    for (const f of factories) this.register(f);
  }

  register(factory: Factory): this {
    let m = this.byKind.get(factory.kind);
    if (!m) this.byKind.set(factory.kind, (m = new Map()));
    if (m.has(factory.type)) throw new Error(`${factory.kind} type "${factory.type}" registered twice`);
    m.set(factory.type, factory);
    return this;
  }

  get(kind: Kind, type: string): Factory | undefined {
    return this.byKind.get(kind)?.get(type);
  }

  types(kind: Kind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }
}
