import { Writable } from 'node:stream';
import { childLogger, createLogger, maskUrl } from './logger';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe(createLogger.name, () => {
  it('redacts API keys and passwords wherever they sit', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    log.info({ config: { openaiApiKey: 'sk-secret', postgres: { password: 'hunter2' } }, apiKey: 'k1' }, 'boot');
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('sk-secret');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('k1');
    expect(text).toContain('[redacted]');
  });

  it('redacts the authorization header of a logged request', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    log.info({ req: { headers: { authorization: 'Bearer abc123' } } }, 'request');
    expect(JSON.stringify(out.lines())).not.toContain('abc123');
  });

  it('stamps child loggers with component and ids', () => {
    const out = capture();
    const log = childLogger(createLogger({ destination: out.stream, name: 'worker' }), {
      component: 'reindex',
      jobId: 'j1',
      catalogId: 'c1',
    });
    log.info('done');
    expect(out.lines()[0]).toMatchObject({ service: 'worker', component: 'reindex', jobId: 'j1', catalogId: 'c1' });
  });
});

describe(maskUrl.name, () => {
  it('hides the password of a connection URL', () => {
    expect(maskUrl('postgres://app:s3cret@db:5432/catalog')).toBe('postgres://app:***@db:5432/catalog');
  });
});
