import { Router } from 'express';
import { AppError } from '@catalog-indexer/http';
import { type JobProducer } from '@catalog-indexer/queue';

/** `/v1/jobs/:id`: a job's state as BullMQ reports it. */
export function jobRoutes(jobs: JobProducer): Router {
  const router = Router();
  router.get('/:id', async (req, res) => {
    const id = req.params.id;
    if (!/^[\w-]{1,200}$/.test(id)) throw new AppError('invalid_id', 'a job id has letters, digits, "_" and "-" only');
    const job = await jobs.getJob(id);
    if (!job) throw new AppError('not_found', `no job ${id} (finished jobs are kept for 7 days)`);
    res.json(job);
  });
  return router;
}
