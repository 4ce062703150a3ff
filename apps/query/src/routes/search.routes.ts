import { Router } from 'express';
import { z } from 'zod';
import { type SearchService } from '../search.service';

const kinds = z.enum(['table', 'column', 'relationship', 'document', 'example']);
export const searchBody = z.strictObject({
  catalogId: z.uuid({ message: 'catalogId must be the UUID of a catalog' }),
  query: z.string().trim().min(1, 'query must not be empty').max(8000),
  limit: z.number().int().min(1).max(100).default(10),
  kinds: z.array(kinds).max(5).optional(),
  schemas: z.array(z.string().min(1)).max(100).optional(),
  tables: z.array(z.string().min(1)).max(1000).optional(),
});

/** `POST /v1/search`: the chunks of one catalog nearest to a question. */
export function searchRoutes(service: SearchService): Router {
  const router = Router();
  router.post('/search', async (req, res) => {
    const body = searchBody.parse(req.body ?? {});
    res.json(await service.search({ ...body, catalogId: body.catalogId.toLowerCase() }));
  });
  return router;
}
