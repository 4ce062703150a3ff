import { parseBenchOptions, readIntegerFlags } from './bench-options';
import { parseReindexBenchOptions } from './reindex-bench-options';

const FLAGS = {
  copies: { env: 'BENCH_COPIES', fallback: 4, min: 1 },
  'idle-ms': { fallback: 10, min: 0 },
} as const;

describe(readIntegerFlags.name, () => {
  it('takes a flag from argv (--name N or --name=N), else its BENCH_* variable, else the fallback', () => {
    expect(readIntegerFlags(['--copies', '7', '--idle-ms=3'], { BENCH_COPIES: '9' }, FLAGS)).toEqual({ copies: 7, 'idle-ms': 3, help: false });
    expect(readIntegerFlags([], { BENCH_COPIES: '9' }, FLAGS)).toEqual({ copies: 9, 'idle-ms': 10, help: false });
    expect(readIntegerFlags([], { BENCH_COPIES: '' }, FLAGS)).toEqual({ copies: 4, 'idle-ms': 10, help: false });
  });

  it('reads switches and --help', () => {
    expect(readIntegerFlags(['--source', '--help'], {}, FLAGS, ['source'])).toMatchObject({ source: true, help: true });
    expect(readIntegerFlags([], {}, FLAGS, ['source'])).toMatchObject({ source: false, help: false });
  });

  it('refuses an unknown flag, naming the known ones', () => {
    expect(() => readIntegerFlags(['--copy', '2'], {}, FLAGS)).toThrow('unknown flag --copy; known: --copies, --idle-ms, --help');
  });

  it('refuses a stray argument and a flag without its value', () => {
    expect(() => readIntegerFlags(['7'], {}, FLAGS)).toThrow(/unexpected argument 7/);
    expect(() => readIntegerFlags(['--copies'], {}, FLAGS)).toThrow('--copies needs a value: --copies N');
  });

  it('refuses a value that is not an integer at or above the minimum, naming the flag and its variable', () => {
    expect(() => readIntegerFlags(['--copies', '0'], {}, FLAGS)).toThrow('--copies (BENCH_COPIES) must be an integer >= 1, got "0"');
    expect(() => readIntegerFlags([], { BENCH_COPIES: 'many' }, FLAGS)).toThrow('--copies (BENCH_COPIES) must be an integer >= 1, got "many"');
    expect(() => readIntegerFlags(['--idle-ms=1.5'], {}, FLAGS)).toThrow('--idle-ms must be an integer >= 0, got "1.5"');
  });
});

describe('benchmark options', () => {
  it('bench:pipeline reads its flags and BENCH_* variables', () => {
    expect(parseBenchOptions(['--queries=20'], { BENCH_DATABASES: '5' })).toMatchObject({ databases: 5, queries: 20, warmup: 10, dimensions: 1536 });
    expect(() => parseBenchOptions(['--copies', '2'], {})).toThrow(/unknown flag --copies/);
  });

  it('bench:reindex maps its kebab-case flags to options', () => {
    const options = parseReindexBenchOptions(['--batch-inputs', '32', '--tpm-run=0'], { BENCH_WORKERS: '2' });
    expect(options).toMatchObject({ batchInputs: 32, tpmRun: 0, workers: 2, copies: 4 });
  });

  it('bench:reindex takes the Qdrant transport and the size of the vectors', () => {
    expect(parseReindexBenchOptions([], {})).toMatchObject({ transport: 'grpc', dimensions: 256 });
    expect(parseReindexBenchOptions(['--transport', 'rest', '--dims', '3072', '--workers', '2'], {})).toMatchObject({ transport: 'rest', dimensions: 3072, workers: 2 });
    expect(parseReindexBenchOptions(['--transport=grpc', '--dimensions', '512'], { BENCH_TRANSPORT: 'rest' })).toMatchObject({ transport: 'grpc', dimensions: 512 });
    expect(parseReindexBenchOptions([], { BENCH_TRANSPORT: 'rest', BENCH_DIMS: '64' })).toMatchObject({ transport: 'rest', dimensions: 64 });
    expect(() => parseReindexBenchOptions(['--transport', 'http'], {})).toThrow(/--transport must be rest or grpc, got "http"/);
    expect(() => parseReindexBenchOptions(['--transport'], {})).toThrow(/--transport must be rest or grpc/);
  });

  it('bench:reindex runs the production build unless told to run the sources', () => {
    expect(parseReindexBenchOptions([], {}).build).toBe('production');
    expect(parseReindexBenchOptions(['--source', '--copies', '1'], {})).toMatchObject({ build: 'source', copies: 1 });
    expect(parseReindexBenchOptions([], { BENCH_SOURCE: '1' }).build).toBe('source');
  });

  it('bench:reindex profiles its workers into the directory --cpu-prof names, and only when asked', () => {
    expect(parseReindexBenchOptions([], {}).cpuProfileDir).toBeNull();
    expect(parseReindexBenchOptions(['--cpu-prof', '/tmp/p', '--copies', '2'], {})).toMatchObject({ cpuProfileDir: '/tmp/p', copies: 2 });
    expect(parseReindexBenchOptions(['--transport=rest', '--cpu-prof=/tmp/q'], {})).toMatchObject({ cpuProfileDir: '/tmp/q', transport: 'rest' });
    expect(() => parseReindexBenchOptions(['--cpu-prof'], {})).toThrow(/--cpu-prof needs a directory/);
  });
});
