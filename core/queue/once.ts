/**
 * Idempotent offers to a persistent queue. A producer that may offer the
 * same batch again after a crash (the filelog receiver replaying the batch
 * it had in flight, since it cannot know whether the queue took it before
 * the crash) gives it a token starting with ONCE_TOKEN_PREFIX, the same on
 * every offer. A persistent queue that finds a frame with that token on
 * disk at start (acknowledged or not) takes the repeat as done instead of
 * storing it twice. Tokens of batches joined by `sending_queue.batch` are
 * replaced by their group's, so this holds for a queue without `batch`.
 */
export const ONCE_TOKEN_PREFIX = 'once:';
