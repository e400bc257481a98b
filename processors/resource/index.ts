export { resourceFactory, type ResourceConfig } from './factory.ts';
