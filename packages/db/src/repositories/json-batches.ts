/**
 * Runs `insert` once per slice of `rows`, each slice passed as one JSON text for `jsonb_to_recordset`: one
 * statement per batch whatever its size, and no limit on bind parameters.
 */
export async function insertAsJsonBatches<R>(
  rows: readonly R[],
  batchSize: number,
  insert: (json: string) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += batchSize) {
    await insert(JSON.stringify(rows.slice(i, i + batchSize)));
  }
}
