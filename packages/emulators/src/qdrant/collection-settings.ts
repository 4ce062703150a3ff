import { type CollectionSettings } from './collection';
import { describeJson } from './point-id';
import { QdrantError } from './qdrant-error';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const U32_MAX = 4_294_967_295;

/** Qdrant's defaults for a standalone node, reported in `config`. */
const DEFAULTS: CollectionSettings = {
  params: { shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true },
  hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
  optimizer_config: {
    deleted_threshold: 0.2,
    vacuum_min_vector_number: 1000,
    default_segment_number: 0,
    max_segment_size: null,
    memmap_threshold: null,
    indexing_threshold: 10000,
    flush_interval_sec: 5,
    max_optimization_threads: null,
  },
  wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
};

/**
 * Reads a replication setting as Qdrant does: absent or null keeps the default; anything but an unsigned
 * 32-bit integer is a 400 format error; 0 is a 422 validation error (each must be 1 or larger).
 */
function positiveU32(body: Record<string, unknown>, field: string, prefix = ''): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw QdrantError.format(`${prefix}${field}: invalid value: ${describeJson(value)}, expected u32`);
  }
  if (value < 1) throw QdrantError.validation(`${prefix}${field}`, `value ${value} invalid, must be 1 or larger`);
  return value;
}

function section(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw QdrantError.format(`${field}: invalid type: ${describeJson(value)}, expected a map`);
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * The settings of a create-collection body besides its vectors: `shard_number`, `replication_factor` and
 * `write_consistency_factor` validated as Qdrant validates them (u32, at least 1), the other sections
 * (hnsw, optimizers, wal, quantization, strict mode, metadata) kept to be reported back.
 */
export function parseCreateSettings(body: Record<string, unknown>): CollectionSettings {
  const params: Record<string, unknown> = { ...DEFAULTS.params };
  for (const field of ['shard_number', 'replication_factor', 'write_consistency_factor']) {
    const value = positiveU32(body, field);
    if (value !== undefined) params[field] = value;
  }
  const method = body.sharding_method;
  if (method !== undefined && method !== null && method !== 'auto') {
    if (method === 'custom') throw QdrantError.unsupported('Custom sharding');
    throw QdrantError.format(`sharding_method: unknown variant ${describeJson(method)}, expected \`auto\` or \`custom\``);
  }
  if (typeof body.on_disk_payload === 'boolean') params.on_disk_payload = body.on_disk_payload;
  const optimizers = { ...section(body, 'optimizer_config'), ...section(body, 'optimizers_config') };
  const settings: CollectionSettings = {
    params,
    hnsw_config: { ...DEFAULTS.hnsw_config, ...section(body, 'hnsw_config') },
    optimizer_config: { ...DEFAULTS.optimizer_config, ...optimizers },
    wal_config: { ...DEFAULTS.wal_config, ...section(body, 'wal_config') },
  };
  for (const extra of ['quantization_config', 'strict_mode_config', 'metadata']) {
    const value = section(body, extra);
    if (Object.keys(value).length > 0) settings[extra] = value;
  }
  return settings;
}

/** Applies the non-vector parts of a `PATCH /collections/{c}` body to the settings. */
export function applySettingsUpdate(settings: CollectionSettings, body: Record<string, unknown>): void {
  const params = section(body, 'params');
  for (const field of ['replication_factor', 'write_consistency_factor']) {
    const value = positiveU32(params, field, 'params.');
    if (value !== undefined) settings.params = { ...settings.params, [field]: value };
  }
  if (typeof params.on_disk_payload === 'boolean') settings.params = { ...settings.params, on_disk_payload: params.on_disk_payload };
  settings.hnsw_config = { ...settings.hnsw_config, ...section(body, 'hnsw_config') };
  settings.optimizer_config = { ...settings.optimizer_config, ...section(body, 'optimizers_config') };
  for (const extra of ['quantization_config', 'strict_mode_config', 'metadata']) {
    const value = section(body, extra);
    if (Object.keys(value).length > 0) settings[extra] = { ...(settings[extra] ?? {}), ...value };
  }
}
