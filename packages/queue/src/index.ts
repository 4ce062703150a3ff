export {
  CATALOG_QUEUE,
  JOB_NAMES,
  MAX_BACKOFF_MS,
  cappedBackoff,
  jobCatalog,
  parsePayload,
  isJobName,
  type JobName,
  type JobPayload,
  type JobInput,
} from './job-catalog';
export { createRedisConnection, isCluster, masterNodes, type RedisClient, type RedisTarget } from './connection';
export { JobProducer, type EnqueuedJob, type JobView } from './job-producer';
export { JobCoalescer, type Reservation } from './job-coalescer';
export { createJobWorker, HandBackError, RunningJobs, isHandBack, postpone, type JobContext, type JobHandler, type JobHandlers, type JobWorkerOptions } from './job-worker';
export { queueReadiness, type QueueReadiness } from './queue-readiness';
export { RedisErrorBackoff, type PausableWorker, type RedisErrorBackoffOptions } from './redis-error-backoff';
export { DelayedError, Queue, UnrecoverableError, WaitingChildrenError, type Job, type Worker } from 'bullmq';
export { SourceVault, SourceVaultKeyError, SOURCE_VAULT_TTL_S } from './source-vault';
export { workerSlots } from './worker-slots';
