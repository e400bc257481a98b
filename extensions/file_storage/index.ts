export { fileStorageFactory, FileStorageExtension, queueDirName, type FileStorageConfig } from './file-storage.ts';
export { FileQueue } from './file-queue.ts';
