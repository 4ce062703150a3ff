export { loadConfig, hashTagOf, type Config } from './config';
export { ConfigError, type ConfigProblem } from './config.error';
export { MODEL_DIMENSIONS, envSchema, type RawEnv } from './config.schema';
