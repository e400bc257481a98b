import type { ExtensionFactory } from '../../core/component.ts';
import { BasicAuthExtension } from './basicauth.ts';
import { basicAuthSchema, defaultBasicAuthConfig, validateBasicAuth, type BasicAuthConfig } from './config.ts';

export const basicAuthFactory: ExtensionFactory<BasicAuthConfig> = {
  kind: 'extension',
  type: 'basicauth',
  schema: basicAuthSchema,
  defaultConfig: defaultBasicAuthConfig,
  validate: validateBasicAuth,
  create: (settings) => new BasicAuthExtension(settings),
};
