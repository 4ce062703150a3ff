import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePortPair } from './free-port';
import { startRedisServer, type RedisServerProcess } from './redis-server';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** A Redis Cluster of a test's own, on free ports, made of masters only. */
export interface RedisClusterProcess {
  nodes: RedisServerProcess[];
  /** `host:port,…` of every node, as `REDIS_CLUSTER_NODES` takes it. */
  seeds: string;
  /** The node that serves the slot of `key` (of its hash tag, when it has one). */
  ownerOf(key: string): Promise<RedisServerProcess>;
  /** Ends every node and removes their directories. */
  stop(): Promise<void>;
}

/** `CLUSTER SHARDS`-free reading of who owns what: `[start, end, host, port]` ranges from `CLUSTER SLOTS`. */
type SlotRange = [number, number, [string, number, ...unknown[]], ...unknown[]];

/**
 * Starts `masters` redis-server processes with `--cluster-enabled yes` on free ports (each port + 10000
 * free as well, for the cluster bus), joins them with `redis-cli --cluster create`, and waits until every
 * node reports `cluster_state:ok`. Call `stop()` after, even when a test fails.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisClusterProcess> {
  const count = options.masters ?? 3;
  const nodes: RedisServerProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePortPair(10_000);
      nodes.push(
        await startRedisServer({
          port,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'],
        }),
      );
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const node of nodes) {
      await waitFor(`cluster node ${node.port} to be ok`, () => clusterCommand(node, ['CLUSTER', 'INFO']).then((info) => String(info).includes('cluster_state:ok')), {
        timeoutMs: 20_000,
        intervalMs: 100,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    seeds: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    async ownerOf(key: string) {
      const first = nodes[0]!;
      const slot = Number(await clusterCommand(first, ['CLUSTER', 'KEYSLOT', key]));
      const ranges = (await clusterCommand(first, ['CLUSTER', 'SLOTS'])) as SlotRange[];
      const range = ranges.find(([start, end]) => slot >= start && slot <= end);
      const owner = nodes.find((n) => range && n.port === Number(range[2][1]));
      if (!owner) throw new Error(`no node of the cluster owns slot ${slot}`);
      return owner;
    },
    stop,
  };
}

async function clusterCommand(node: RedisServerProcess, args: string[]): Promise<unknown> {
  const client = new Redis(node.port, node.host, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    const [command, ...rest] = args;
    return await client.call(command!, ...rest);
  } finally {
    client.disconnect();
  }
}
