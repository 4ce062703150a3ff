import { parseConnectionString, tlsOptions } from './connection-string';
import { ImportError } from './import.error';

describe(parseConnectionString.name, () => {
  const refusal = (value: string): ImportError => {
    try {
      parseConnectionString(value);
    } catch (error) {
      expect(error).toBeInstanceOf(ImportError);
      return error as ImportError;
    }
    throw new Error(`${value} was accepted`);
  };

  it('takes the fields apart and keeps nothing else of the string', () => {
    const conn = parseConnectionString('postgres://ann:p%40ss@db.example.test:6543/shop?sslmode=verify-full');
    expect(conn).toEqual({
      dialect: 'postgres',
      host: 'db.example.test',
      port: 6543,
      user: 'ann',
      password: 'p@ss',
      database: 'shop',
      tls: 'verify-full',
      display: 'db.example.test:6543/shop',
    });
    expect(JSON.stringify(conn)).not.toContain('sslmode');
  });

  it('defaults the port, user and TLS mode by dialect', () => {
    expect(parseConnectionString('mariadb://127.0.0.1/x')).toMatchObject({ dialect: 'mysql', port: 3306, user: 'root', tls: 'disable' });
    expect(parseConnectionString('postgresql://[::1]/x')).toMatchObject({ dialect: 'postgres', host: '::1', port: 5432, user: 'postgres' });
  });

  it.each([
    ['host', 'postgres://u@127.0.0.1/db?host=10.0.0.9'],
    ['options', 'postgres://u@127.0.0.1/db?options=-c%20default_transaction_read_only%3Doff'],
    ['statement_timeout', 'postgres://u@127.0.0.1/db?statement_timeout=0'],
    ['sslrootcert', 'postgres://u@127.0.0.1/db?sslmode=verify-full&sslrootcert=/etc/passwd'],
    ['application_name', 'postgres://u@127.0.0.1/db?application_name=x'],
    ['socketPath', 'mysql://root@127.0.0.1/db?socketPath=/run/mysqld/mysqld.sock'],
    ['multipleStatements', 'mysql://root@127.0.0.1/db?multipleStatements=true'],
  ])('refuses the parameter %s by name', (name, value) => {
    const error = refusal(value);
    expect(error.code).toBe('invalid_connection_string');
    expect(error.message).toContain(`parameter "${name}" is not allowed`);
    expect(error.message).toContain('sslmode');
  });

  it('refuses TLS modes it cannot honour, fragments, several hosts and socket paths', () => {
    expect(refusal('postgres://u@h/db?sslmode=prefer').message).toMatch(/sslmode must be one of disable, require, verify-ca, verify-full/);
    expect(refusal('postgres://u:pass@h/db#frag').message).toMatch(/%23/);
    expect(refusal('postgres://u@h1,h2/db').message).toMatch(/one host only/);
    expect(refusal('postgres://u@%2Frun%2Fpostgresql/db').message).toMatch(/neither a DNS name nor an IP address/);
  });

  it('never repeats the password in a refusal', () => {
    expect(refusal('postgres://u:hunter2@h/db?password=hunter2').message).not.toContain('hunter2');
  });
});

describe(tlsOptions.name, () => {
  it('maps each mode to what Node checks, keeping the name for SNI and the host check', () => {
    const at = (mode: string, host = 'db.example.test') => tlsOptions(parseConnectionString(`postgres://u@${host}/d?sslmode=${mode}`));
    expect(at('disable')).toBeUndefined();
    expect(at('require')).toEqual({ rejectUnauthorized: false, servername: 'db.example.test' });
    expect(at('verify-full')).toEqual({ rejectUnauthorized: true, servername: 'db.example.test' });
    expect(at('verify-ca')).toMatchObject({ rejectUnauthorized: true });
    expect(at('verify-ca')!.checkServerIdentity!()).toBeUndefined();
    expect(at('verify-full', '10.1.2.3')).toEqual({ rejectUnauthorized: true, servername: undefined });
  });
});
