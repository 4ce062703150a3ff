import { Router } from 'express';
import { z } from 'zod';
import { type ContextService } from '../context.service';

export const contextBody = z.strictObject({
  catalogId: z.uuid({ message: 'catalogId must be the UUID of a catalog' }),
  question: z.string().trim().min(1, 'question must not be empty').max(8000),
  maxTables: z.number().int().min(1).max(50).default(10),
  tokenBudget: z.number().int().min(256).max(100_000).default(4000),
});

/** `POST /v1/context`: the tables, columns, joins, documents and examples a SQL generator needs for a question. */
export function contextRoutes(service: ContextService): Router {
  const router = Router();
  router.post('/context', async (req, res) => {
    const body = contextBody.parse(req.body ?? {});
    res.json(await service.context({ ...body, catalogId: body.catalogId.toLowerCase() }));
  });
  return router;
}
