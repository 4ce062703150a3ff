export { hashingVector, words } from './hashing-vector';
export { countTokens, tokenSegments, truncateToTokens } from './tokens';
export {
  analyzeText,
  buildVocabulary,
  isStopWord,
  splitCompound,
  splitWords,
  stem,
  COMPOUND_MIN_LENGTH,
  COMPOUND_PART_MIN_LENGTH,
} from './text-analyzer';
export { BM25, documentSparseVector, querySparseVector, termIndex } from './sparse-vector';
export type { SparseVector } from './sparse-vector';
