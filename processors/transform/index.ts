export { transformFactory, type TransformConfig } from './factory.ts';
