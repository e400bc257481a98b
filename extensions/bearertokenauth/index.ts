export { bearerTokenAuthFactory } from './factory.ts';
export { BearerTokenAuthExtension, FILE_POLL_MS } from './bearertokenauth.ts';
export type { BearerTokenAuthConfig } from './config.ts';
