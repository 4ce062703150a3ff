import { parseCliArgs } from './cli-args';

describe(parseCliArgs.name, () => {
  it('starts both emulators on the usual ports by default', () => {
    expect(parseCliArgs([])).toEqual({ which: 'all', port: 6333, openaiPort: 6335, apiKey: undefined });
  });

  it('reads the emulator, ports and API key', () => {
    expect(parseCliArgs(['all', '--port', '0', '--openai-port', '7000', '--api-key', 'k'])).toEqual({
      which: 'all',
      port: 0,
      openaiPort: 7000,
      apiKey: 'k',
    });
    expect(parseCliArgs(['openai']).port).toBe(6335);
  });

  it('rejects unknown emulators, flags and ports with the usage', () => {
    expect(() => parseCliArgs(['redis'])).toThrow(/usage/);
    expect(() => parseCliArgs(['qdrant', '--verbose', '1'])).toThrow(/unknown flag/);
    expect(() => parseCliArgs(['qdrant', '--port', 'x'])).toThrow(/port number/);
  });
});
