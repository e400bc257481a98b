import type { ExtensionFactory } from '../../core/component.ts';
import { BearerTokenAuthExtension } from './bearertokenauth.ts';
import { bearerTokenAuthSchema, defaultBearerTokenAuthConfig, validateBearerTokenAuth, type BearerTokenAuthConfig } from './config.ts';

export const bearerTokenAuthFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: 'extension',
  type: 'bearertokenauth',
  schema: bearerTokenAuthSchema,
  defaultConfig: defaultBearerTokenAuthConfig,
  validate: validateBearerTokenAuth,
  create: (settings) => new BearerTokenAuthExtension(settings),
};
