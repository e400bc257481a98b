export { kafkaReceiverFactory } from './factory.ts';
export { KafkaReceiver } from './receiver.ts';
export { defaultKafkaReceiverConfig, type KafkaReceiverConfig } from './config.ts';
export { coPartitionedAssigner, coPartition, CO_PARTITIONED } from './assigner.ts';
export { chunkToken, parsePlan, planMetadata } from './chunks.ts';
export { PartitionWorker } from './partition.ts';
