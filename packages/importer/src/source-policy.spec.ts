import { parseConnectionString } from './connection-string';
import { ImportError } from './import.error';
import { SourcePolicy, type Resolve } from './source-policy';

/** Answers for names, without any DNS server; every lookup is recorded. */
function fakeDns(table: Record<string, string[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(resolve, { asked });
}

const conn = (host: string) => parseConnectionString(`postgres://u:pw@${host}:5432/db`);

describe(SourcePolicy.name, () => {
  it('allows loopback only by default', async () => {
    const policy = new SourcePolicy(undefined, fakeDns({ localhost: ['::1', '127.0.0.1'] }));
    await expect(policy.admit(conn('127.0.0.1'))).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(policy.admit(conn('127.200.3.4'))).resolves.toMatchObject({ address: '127.200.3.4' });
    await expect(policy.admit(conn('[::1]'))).resolves.toMatchObject({ address: '::1' });
    await expect(policy.admit(conn('localhost'))).resolves.toMatchObject({ address: '::1' });
    for (const host of ['10.0.0.1', '169.254.169.254', '192.168.1.1', '[fe80::1]', '[::ffff:10.0.0.1]']) {
      await expect(policy.admit(conn(host))).rejects.toMatchObject({ code: 'source_not_allowed' });
    }
  });

  it('checks the addresses a name resolves to, and hands back the checked address to connect to', async () => {
    const dns = fakeDns({ 'db.example.test': ['10.20.0.7'], 'evil.example.test': ['169.254.169.254'] });
    const policy = new SourcePolicy(['10.20.0.0/16'], dns);
    await expect(policy.admit(conn('db.example.test'))).resolves.toEqual({ conn: conn('db.example.test'), address: '10.20.0.7' });
    const refused = await policy.admit(conn('evil.example.test')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImportError);
    expect(refused).toMatchObject({ code: 'source_not_allowed', message: expect.stringContaining('IMPORT_ALLOWED_HOSTS') as unknown });
    expect(dns.asked).toEqual(['db.example.test', 'evil.example.test']);
  });

  it('allows a listed host name as itself, whatever it resolves to', async () => {
    const policy = new SourcePolicy(['warehouse.internal'], fakeDns({ 'warehouse.internal': ['10.9.9.9'], 'other.internal': ['10.9.9.9'] }));
    await expect(policy.admit(conn('WAREHOUSE.internal'))).resolves.toMatchObject({ address: '10.9.9.9' });
    await expect(policy.admit(conn('other.internal'))).rejects.toMatchObject({ code: 'source_not_allowed' });
  });

  it('reads IPv4-mapped IPv6 addresses as the IPv4 address they carry', async () => {
    const policy = new SourcePolicy(['127.0.0.0/8']);
    await expect(policy.admit(conn('[::ffff:127.0.0.1]'))).resolves.toMatchObject({ address: '::ffff:7f00:1' });
  });

  it('answers a name that does not resolve as unreachable, naming the host', async () => {
    await expect(new SourcePolicy(undefined, fakeDns({})).admit(conn('nowhere.test'))).rejects.toMatchObject({
      code: 'source_unreachable',
      message: expect.stringContaining('unknown host "nowhere.test"') as unknown,
    });
  });

  it('refuses entries that are no host, address or range, naming them', () => {
    expect(() => new SourcePolicy(['10.0.0.0/33'])).toThrow(/"10.0.0.0\/33" is not a CIDR range/);
    expect(() => new SourcePolicy(['db/x'])).toThrow(/"db\/x" is neither/);
    expect(SourcePolicy.parse('').entries).toEqual(['127.0.0.0/8', '::1/128']);
    expect(SourcePolicy.parse(' db.internal , 10.0.0.0/8 ').entries).toEqual(['db.internal', '10.0.0.0/8']);
  });
});
