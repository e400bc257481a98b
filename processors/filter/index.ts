export { filterFactory, type FilterConfig } from './factory.ts';
