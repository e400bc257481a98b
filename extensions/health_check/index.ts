export { healthCheckFactory, HealthCheckExtension, type HealthCheckConfig } from './health-check.ts';
