import { childLogger, createLogger, exitOnStartupFailure } from '@catalog-indexer/logger';
import { parseCliArgs } from './cli-args';
import { OpenAIEmulator } from './openai/openai-emulator';
import { QdrantEmulator } from './qdrant/qdrant-emulator';
import { type EmulatorServer } from './shared/emulator-server';

/** Starts the emulators named on the command line and stops them on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const root = createLogger({ name: 'emulators' });
  const args = parseCliArgs(process.argv.slice(2));
  const started: EmulatorServer[] = [];
  if (args.which === 'qdrant' || args.which === 'all') {
    const log = childLogger(root, { component: 'qdrant-emulator' });
    const qdrant = new QdrantEmulator({ apiKey: args.apiKey, logger: log });
    const { url, grpcUrl } = await qdrant.start(args.port, args.grpcPort);
    started.push(qdrant);
    log.info({ url, grpcUrl }, 'Qdrant emulator listening');
  }
  if (args.which === 'openai' || args.which === 'all') {
    const log = childLogger(root, { component: 'openai-emulator' });
    const switches = Object.fromEntries(Object.entries(args.openai).filter(([, v]) => v !== undefined));
    const openai = new OpenAIEmulator({ apiKey: args.apiKey, logger: log, ...switches });
    const { url } = await openai.start(args.which === 'all' ? args.openaiPort : args.port);
    started.push(openai);
    log.info({ url, baseURL: `${url}/v1`, ...openai.config }, 'OpenAI emulator listening');
  }
  const shutdown = (signal: string): void => {
    root.info({ signal }, 'stopping emulators');
    Promise.all(started.map((s) => s.stop())).then(
      () => process.exit(0),
      (err: unknown) => {
        root.error({ err }, 'emulators did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => exitOnStartupFailure('emulators', err));
