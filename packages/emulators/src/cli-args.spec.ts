import { parseCliArgs } from './cli-args';

describe(parseCliArgs.name, () => {
  it('starts both emulators on the usual ports by default', () => {
    expect(parseCliArgs([])).toEqual({ which: 'all', port: 6333, grpcPort: 6334, openaiPort: 6335, apiKey: undefined, openai: {} });
  });

  it('reads the emulator, ports and API key', () => {
    expect(parseCliArgs(['all', '--port', '0', '--openai-port', '7000', '--api-key', 'k'])).toEqual({
      which: 'all',
      port: 0,
      grpcPort: 0,
      openaiPort: 7000,
      apiKey: 'k',
      openai: {},
    });
    expect(parseCliArgs(['openai']).port).toBe(6335);
  });

  it('serves Qdrant\'s gRPC on the port after its REST one unless --grpc-port says otherwise', () => {
    expect(parseCliArgs(['qdrant', '--port', '7000'])).toMatchObject({ port: 7000, grpcPort: 7001 });
    expect(parseCliArgs(['qdrant', '--port', '7000', '--grpc-port', '0'])).toMatchObject({ port: 7000, grpcPort: 0 });
    expect(() => parseCliArgs(['qdrant', '--grpc-port', '70000'])).toThrow(/--grpc-port must be a port number/);
  });

  it('reads the OpenAI emulator latency and rate limits', () => {
    const args = parseCliArgs(['openai', '--latency-ms', '300', '--latency-per-1k-tokens-ms', '20', '--tpm', '1000000', '--rpm', '3000']);
    expect(args.openai).toEqual({ latencyMs: 300, latencyPer1kTokensMs: 20, tokensPerMinute: 1_000_000, requestsPerMinute: 3000 });
    expect(() => parseCliArgs(['openai', '--tpm', '0'])).toThrow(/--tpm must be a number >= 1/);
    expect(() => parseCliArgs(['openai', '--latency-ms', 'slow'])).toThrow(/--latency-ms/);
  });

  it('rejects unknown emulators, flags and ports with the usage', () => {
    expect(() => parseCliArgs(['redis'])).toThrow(/usage/);
    expect(() => parseCliArgs(['qdrant', '--verbose', '1'])).toThrow(/unknown flag/);
    expect(() => parseCliArgs(['qdrant', '--port', 'x'])).toThrow(/port number/);
    expect(() => parseCliArgs(['qdrant', '--port'])).toThrow(/--port needs a value; usage/);
    expect(() => parseCliArgs(['qdrant', 'openai'])).toThrow(/unexpected argument "openai".*usage/);
  });

  it('reads --flag=value as well as --flag value, the emulator anywhere', () => {
    expect(parseCliArgs(['--port=7001', 'qdrant', '--api-key=k'])).toMatchObject({ which: 'qdrant', port: 7001, apiKey: 'k' });
  });
});
