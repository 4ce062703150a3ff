export {
  CATALOG_QUEUE,
  JOB_NAMES,
  jobCatalog,
  parsePayload,
  isJobName,
  type JobName,
  type JobPayload,
  type JobInput,
} from './job-catalog';
export { createRedisConnection, isCluster, masterNodes, type RedisClient, type RedisTarget } from './connection';
export { JobProducer, type EnqueuedJob, type JobView } from './job-producer';
export { createJobWorker, type JobHandler, type JobHandlers, type JobWorkerOptions } from './job-worker';
export { queueReadiness, type QueueReadiness } from './queue-readiness';
export { RedisErrorBackoff, type PausableWorker, type RedisErrorBackoffOptions } from './redis-error-backoff';
export { Queue, UnrecoverableError, type Job, type Worker } from 'bullmq';
