export { hashingVector, words } from './hashing-vector';
export { countTokens, truncateToTokens } from './tokens';
