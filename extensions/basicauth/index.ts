export { basicAuthFactory } from './factory.ts';
export { BasicAuthExtension, BCRYPT_CONCURRENCY, BCRYPT_QUEUE } from './basicauth.ts';
export type { BasicAuthConfig } from './config.ts';
