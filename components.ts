/**
 * Every built-in component, registered by kind and type. A new component is
 * one import and one list entry here.
 */
import type { Factory } from './core/component.ts';
import { Registry } from './core/registry.ts';

export const builtinFactories: Factory[] = [
  // receivers

  // processors

  // exporters

  // extensions
];

export function builtinRegistry(): Registry {
  return new Registry(builtinFactories);
}
