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
export { createRedisConnection } from './connection';
export { JobProducer, type EnqueuedJob, type JobView } from './job-producer';
export { createJobWorker, type JobHandler, type JobHandlers, type JobWorkerOptions } from './job-worker';
export { UnrecoverableError, type Job, type Queue, type Worker } from 'bullmq';
