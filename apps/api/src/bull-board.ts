import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type Router } from 'express';
import { type Queue } from '@catalog-indexer/queue';

export const BULL_BOARD_PATH = '/admin/queues';

/** Bull Board over the catalog queue. Job data holds ids only, so nothing needs masking. */
export function bullBoardRouter(queue: Queue): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
  return serverAdapter.getRouter() as Router;
}
