export { alertsFactory, AlertsExtension } from './alerts.ts';
export { alertsProvider, isAlertsProvider, type AlertsProvider } from './provider.ts';
export { defaultAlertsConfig, type AlertsConfig } from './config.ts';
