import { Writable } from 'node:stream';
import { childLogger, createLogger, isTerminal, maskUrl } from './logger';

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

describe('pretty logs', () => {
  const raw = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    return { stream, text: () => chunks.join('') };
  };

  it('writes readable lines instead of JSON when asked, still without secrets', () => {
    const out = raw();
    createLogger({ destination: out.stream, pretty: true, name: 'api' }).info({ catalogId: 'c1', apiKey: 'k-secret' }, 'catalog stored');
    expect(out.text()).toMatch(/INFO: api: catalog stored/);
    expect(out.text()).toContain('catalogId: "c1"');
    expect(out.text()).not.toContain('k-secret');
    expect(() => JSON.parse(out.text()) as unknown).toThrow();
  });

  it('writes JSON to a destination that is not a terminal', () => {
    const out = raw();
    createLogger({ destination: out.stream }).info('plain');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'plain', level: 30 });
  });

  it('pretty-prints by default only when stdout is a terminal', () => {
    expect(isTerminal({ isTTY: true })).toBe(true);
    expect(isTerminal({ isTTY: undefined })).toBe(false);
    expect(isTerminal({})).toBe(false);
  });
});

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
