export { QdrantEmulator, type QdrantEmulatorOptions, type StartedQdrantEmulator } from './qdrant/qdrant-emulator';
export { QdrantError } from './qdrant/qdrant-error';
export { compileFilter, type Payload, type FilterTarget, type Predicate } from './qdrant/filter';
export { parsePointId, comparePointIds, type PointId } from './qdrant/point-id';
export { score, normalize, type Distance } from './qdrant/scoring';
export {
  OpenAIEmulator,
  OPENAI_LIKE_LATENCY,
  type OpenAIEmulatorOptions,
  type OpenAIEmulatorConfig,
  type OpenAIEmulatorStats,
  type InjectedFailure,
} from './openai/openai-emulator';
export { OpenAIError } from './openai/openai-error';
export { EMBEDDING_MODELS, EMBEDDING_LIMITS, type EmbeddingModel } from './openai/limits';
export { encodeBase64Embedding, decodeBase64Embedding } from './openai/embedding-encoding';
export { CONTROL_PREFIX, type StartedEmulator, type EmulatedRoute, type EmulatorServerOptions } from './shared/emulator-server';
export type { Exchange, ExchangeListener } from './shared/exchange';
export type { FaultRule } from './shared/fault-injector';
export { OpenApiValidator, type OpenApiValidatorOptions, type SpecValidation } from './spec/openapi-validator';
export { sharedSpecPath, repositoryRoot, type SharedSpec } from './spec/shared-specs';
