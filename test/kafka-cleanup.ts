// vitest setupFiles: after each test file, delete the Kafka topics it made on
// the shared broker (test/kafka-broker.ts). A file that never asked for Kafka
// never loaded kafka-broker.ts, and pays nothing.
import { afterAll } from 'vitest';

afterAll(async () => {
  const mod = (globalThis as { __trailhouseKafkaBroker?: { deleteTestTopics(): Promise<void> } }).__trailhouseKafkaBroker;
  await mod?.deleteTestTopics();
}, 60_000);
