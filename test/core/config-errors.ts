/** Loads a config text with the built-in components; the errors it reports, as `path: message` lines. */
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { ConfigValidationError } from '../../core/config/schema.ts';

const registry = builtinRegistry();

export function errorsOf(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(yaml, registry, env);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  return [];
}
