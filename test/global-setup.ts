// vitest globalSetup. Deliberately empty: Kafka starts lazily, in the test
// files that call ensureKafka() (test/kafka-broker.ts), so runs that select
// no Kafka test stay fast and need no Java. The local broker is left running
// after the run: several people share this machine and its broker, so one
// run's teardown must not pull it from under another's. `npm run kafka:stop`
// stops it; CI (.ci/run) stops it on exit.
export function setup(): void {}

export function teardown(): void {}
