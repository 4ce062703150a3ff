import { randomBytes } from 'node:crypto';

/** A name no other test file uses: `prefix_<12 hex chars>`, valid for databases, queues and collections. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
