export { hashingVector, words } from './hashing-vector';
export type { Embedder, EmbeddingResult } from './embedder';
export { LocalEmbedder } from './local.embedder';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.embedder';
export { EmbeddingRequestError } from './embedding.error';
export { createEmbedder } from './create-embedder';
export { countTokens, truncateToTokens } from './tokens';
export { packBatches, OPENAI_LIMITS, type BatchLimits, type PreparedInput } from './batching';
