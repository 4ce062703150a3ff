/** Rules of the context, in one place. */
export const CONTEXT_RULES = {
  /** Longest join path (in foreign keys) followed to connect a table to those chosen before it. */
  maxJoinEdges: 2,
  /** Documents and examples offered at most. */
  documents: 2,
  examples: 3,
} as const;
