/** How long a reader waits for a connection and for each statement. */
export interface ReaderTimeouts {
  connectMs: number;
  statementMs: number;
}
