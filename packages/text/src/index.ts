export { hashingVector, words } from './hashing-vector';
export { Cl100kRanks } from './cl100k-ranks';
export { CL100K_TABLE_FILE, countTokens, loadCl100kRanks, tokenSegments, truncateToTokens } from './tokens';
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
