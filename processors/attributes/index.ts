export { attributesFactory, type AttributesConfig } from './factory.ts';
export { AttrActions, type ActionConfig } from '../../lib/attributes/actions.ts';
