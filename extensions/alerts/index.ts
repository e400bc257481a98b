export { alertsFactory, AlertsExtension } from './alerts.ts';
export { alertsProvider, isAlertsProvider, type AlertsProvider } from '../../lib/alerts/provider.ts';
export { defaultAlertsConfig, type AlertsConfig } from './config.ts';
