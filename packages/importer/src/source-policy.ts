import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { type SourceConnection } from './connection-string';
import { ImportError } from './import.error';

/** Loopback only: the default of `IMPORT_ALLOWED_HOSTS`. */
export const LOOPBACK_ONLY = ['127.0.0.0/8', '::1/128'] as const;

/** How a host name is resolved; replaceable so tests can resolve names without a DNS server. */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/** A connection the policy allows, with the address to connect to (the one that was checked). */
export interface AllowedSource {
  conn: SourceConnection;
  /** An IP address: drivers connect here, so a second resolution cannot lead elsewhere. */
  address: string;
}

/**
 * Which database servers the importer (and every endpoint that takes a database URL) may connect to:
 * host names and CIDR ranges (`IMPORT_ALLOWED_HOSTS`). A listed name is allowed as itself; any other host is
 * resolved first and allowed only when an address it resolves to falls in a listed range. The check runs
 * before any connection, and the driver then connects to the checked address; a refusal is the same whether
 * anything listens there or not.
 */
export class SourcePolicy {
  private readonly ranges = new BlockList();
  private readonly names = new Set<string>();

  /**
   * @param entries host names (`db.internal`), addresses (`10.1.2.3`, `::1`) or CIDR ranges (`10.0.0.0/8`).
   * @throws Error naming the first entry that is none of these.
   */
  constructor(
    readonly entries: readonly string[] = LOOPBACK_ONLY,
    private readonly resolve: Resolve = systemResolve,
  ) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      const [address, bits, extra] = entry.split('/');
      const family = isIP(address ?? '');
      if (family !== 0 && extra === undefined) {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128) || (bits !== undefined && !/^\d+$/.test(bits))) {
          throw new Error(`"${raw}" is not a CIDR range: give the prefix length as /0 to /${family === 4 ? 32 : 128}`);
        }
        this.ranges.addSubnet(address!, prefix, type);
      } else if (/^[a-z0-9.-]+$/.test(entry) && !entry.includes('/')) {
        this.names.add(entry.replace(/\.$/, ''));
      } else {
        throw new Error(`"${raw}" is neither a host name, an IP address nor a CIDR range`);
      }
    }
  }

  /** Reads a comma-separated list (`IMPORT_ALLOWED_HOSTS`); empty means loopback only. */
  static parse(list: string | undefined): SourcePolicy {
    const entries = (list ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
    return new SourcePolicy(entries.length > 0 ? entries : LOOPBACK_ONLY);
  }

  private allowsAddress(address: string): boolean {
    // An IPv4-mapped IPv6 address is the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.ranges.check(mapped[1]!, 'ipv4');
    return this.ranges.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The address to connect to for `conn`, once the policy allows it.
   *
   * @throws ImportError `source_not_allowed` (nothing was sent to the host) or `source_unreachable` for a name
   *   that does not resolve.
   */
  async admit(conn: SourceConnection): Promise<AllowedSource> {
    const host = conn.host.toLowerCase().replace(/\.$/, '');
    let addresses: string[];
    if (isIP(host) !== 0) {
      addresses = [host];
    } else {
      try {
        addresses = (await this.resolve(host)).map((a) => a.address);
      } catch {
        throw new ImportError('source_unreachable', `unknown host "${conn.host}": check the host name of the connection string`);
      }
    }
    const address = this.names.has(host) ? addresses[0] : addresses.find((a) => this.allowsAddress(a));
    if (address === undefined) {
      throw new ImportError(
        'source_not_allowed',
        `connecting to host "${conn.host}" is not allowed: the operator lists the database servers the system may read in IMPORT_ALLOWED_HOSTS (default: loopback only)`,
      );
    }
    return { conn, address };
  }
}
