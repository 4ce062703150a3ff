export { hashingVector, words, countTokens, truncateToTokens } from '@catalog-indexer/text';
export type { Embedder, EmbeddingResult } from './embedder';
export { LocalEmbedder } from './local.embedder';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.embedder';
export { EmbeddingRequestError } from './embedding.error';
export { createEmbedder } from './create-embedder';
export { packBatches, OPENAI_LIMITS, type BatchLimits, type PreparedInput } from './batching';
