import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { type Catalog } from '@catalog-indexer/catalog';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogImporter } from './catalog-importer';
import { ImportError } from './import.error';
import { SourcePolicy } from './source-policy';

jest.setTimeout(180_000);

const DATASETS = path.resolve(__dirname, '../../../../shared/datasets/sample-dbs');
const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/** A Postgres database of this file's own, loaded from the sample SQL with psql. */
async function loadPostgres(files: string[], rewrite: (sql: string) => string = (s) => s): Promise<TestDatabase<{ destroy(): Promise<void> }>> {
  const db = await createTestDatabase(() => Promise.resolve({ destroy: () => Promise.resolve() }));
  for (const file of files) {
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url], {
      input: rewrite(readFileSync(path.join(DATASETS, file), 'utf8')),
      stdio: ['pipe', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  return db;
}

async function pgQuery<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Items of a catalog as comparable lines: tables, columns (nullability, key), foreign keys, comments. */
function catalogLines(catalog: Catalog, schema: string): string[] {
  const lines: string[] = [];
  for (const s of catalog.schemas.filter((x) => x.name === schema)) {
    for (const t of s.tables) {
      lines.push(`table ${t.name} ${t.type}`);
      if (t.description) lines.push(`comment ${t.name}: ${t.description}`);
      for (const c of t.columns) {
        lines.push(`column ${t.name}.${c.name} nullable=${c.nullable === true} pk=${c.primaryKey === true}`);
        if (c.description) lines.push(`comment ${t.name}.${c.name}: ${c.description}`);
      }
      for (const fk of t.foreignKeys ?? []) {
        lines.push(`fk ${t.name}(${fk.columns.join(',')}) -> ${fk.references.schema}.${fk.references.table}(${fk.references.columns.join(',')})`);
      }
    }
  }
  return lines.sort();
}

function freeSilentPort(): Promise<{ port: number; close: () => Promise<void> }> {
  // Accepts connections and never answers: a server that hangs.
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            sockets.forEach((s) => s.destroy());
            server.close(() => done());
          }),
      });
    });
  });
}

/** A TCP server on loopback that counts the connections it is offered. */
function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = net.createServer((s) => {
    count += 1;
    s.destroy();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections: () => count,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

describe(CatalogImporter.name, () => {
  const importer = new CatalogImporter({ connectMs: 3_000, statementMs: 10_000 });
  const expectImportError = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) as unknown });
    return error as ImportError;
  };

  describe('PostgreSQL: pagila', () => {
    let db: TestDatabase<{ destroy(): Promise<void> }>;
    beforeAll(async () => {
      db = await loadPostgres(['pagila-schema.sql', 'pagila-data.sql']);
      await pgQuery(
        db.url,
        `COMMENT ON SCHEMA public IS 'DVD rental shop';
         COMMENT ON TABLE public.film IS 'One row per film in the catalogue; rental_rate is per rental period.';
         COMMENT ON COLUMN public.film.rental_rate IS 'Price of one rental, in US dollars';
         COMMENT ON VIEW public.customer_list IS 'Customers with their address, for mailing';
         COMMENT ON COLUMN public.payment.amount IS 'Amount paid, after discounts'`,
      );
    });
    afterAll(() => db.drop());

    it('imports every table, view, column, key and comment that the database reports', async () => {
      const { catalog } = await importer.import({ connectionString: db.url, schemas: ['public'] });
      const q = <T>(sql: string) => pgQuery<T>(db.url, sql);
      // Partitions are read through their parent table, so they are not items of their own.
      const partitions = new Set((await q<{ name: string }>(`SELECT c.relname AS name FROM pg_class c WHERE c.relispartition`)).map((r) => r.name));
      const tables = (
        await q<{ name: string; type: string }>(
          `SELECT table_name AS name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS type
             FROM information_schema.tables WHERE table_schema = 'public'
           UNION ALL SELECT matviewname, 'view' FROM pg_matviews WHERE schemaname = 'public'`,
        )
      ).filter((t) => !partitions.has(t.name));
      const columns = await q<{ table: string; name: string; nullable: string }>(
        `SELECT table_name AS table, column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = 'public'
         UNION ALL SELECT c.relname, a.attname, CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_matviews m ON m.matviewname = c.relname AND m.schemaname = 'public'
          WHERE a.attnum > 0 AND NOT a.attisdropped`,
      );
      const pks = new Set(
        (
          await q<{ table: string; column: string }>(
            `SELECT k.table_name AS table, k.column_name AS column FROM information_schema.table_constraints c
               JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
              WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = 'public'`,
          )
        ).map((r) => `${r.table}.${r.column}`),
      );
      const fkRows = await q<{ table: string; name: string; column: string; rs: string; rt: string; rc: string }>(
        `SELECT k.table_name AS table, k.constraint_name AS name, k.column_name AS column, r.table_schema AS rs, r.table_name AS rt, r.column_name AS rc
           FROM information_schema.referential_constraints rc
           JOIN information_schema.key_column_usage k ON k.constraint_schema = rc.constraint_schema AND k.constraint_name = rc.constraint_name
           JOIN information_schema.key_column_usage r ON r.constraint_schema = rc.unique_constraint_schema
                AND r.constraint_name = rc.unique_constraint_name AND r.ordinal_position = k.position_in_unique_constraint
          WHERE k.table_schema = 'public' ORDER BY k.table_name, k.constraint_name, k.ordinal_position`,
      );
      // A key declared on a partition is a key of its partitioned root; the same key on every partition is one.
      const roots = new Map(
        (await q<{ name: string; root: string }>(`SELECT c.relname AS name, r.relname AS root FROM pg_class c JOIN pg_class r ON r.oid = pg_partition_root(c.oid) WHERE c.relispartition`)).map(
          (r) => [r.name, r.root],
        ),
      );
      const byConstraint = new Map<string, { table: string; cols: string[]; ref: string; refCols: string[] }>();
      for (const r of fkRows) {
        const table = roots.get(r.table) ?? r.table;
        const fk = byConstraint.get(`${r.table}/${r.name}`) ?? { table, cols: [], ref: `${r.rs}.${r.rt}`, refCols: [] };
        fk.cols.push(r.column);
        fk.refCols.push(r.rc);
        byConstraint.set(`${r.table}/${r.name}`, fk);
      }
      const fks = new Map([...byConstraint.values()].map((f) => [JSON.stringify(f), f]));
      const comments = await q<{ line: string }>(
        `SELECT 'comment ' || c.relname || coalesce('.' || a.attname, '') || ': ' || d.description AS line
           FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0`,
      );
      const expected = [
        ...tables.map((t) => `table ${t.name} ${t.type}`),
        ...columns.filter((c) => !partitions.has(c.table)).map((c) => `column ${c.table}.${c.name} nullable=${c.nullable === 'YES'} pk=${pks.has(`${c.table}.${c.name}`)}`),
        ...[...fks.values()].map((f) => `fk ${f.table}(${f.cols.join(',')}) -> ${f.ref}(${f.refCols.join(',')})`),
        ...comments.map((c) => c.line),
      ].sort();

      expect(catalogLines(catalog, 'public')).toEqual(expected);
      // The comments added above are there, and pagila's 15 base tables, views and the partitioned payment.
      expect(expected).toEqual(expect.arrayContaining(['comment film.rental_rate: Price of one rental, in US dollars', 'table customer_list view', 'table payment table']));
      expect(catalog.schemas[0]!.description).toBe('DVD rental shop');
      // payment is partitioned and its keys are declared on each partition: they are lifted to payment once.
      expect(catalogLines(catalog, 'public').filter((l) => l.startsWith('fk payment('))).toEqual([
        'fk payment(customer_id) -> public.customer(customer_id)',
        'fk payment(rental_id) -> public.rental(rental_id)',
        'fk payment(staff_id) -> public.staff(staff_id)',
      ]);
      expect(roots.size).toBeGreaterThan(1);
      expect(tables.length).toBeGreaterThanOrEqual(20);
    });

    it('gives each column its SQL type as the database spells it', async () => {
      const { catalog } = await importer.import({ connectionString: db.url, schemas: ['public'] });
      const film = catalog.schemas[0]!.tables.find((t) => t.name === 'film')!;
      const types = Object.fromEntries(film.columns.map((c) => [c.name, c.type]));
      const reported = await pgQuery<{ name: string; type: string }>(
        db.url,
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'public.film'::regclass AND attnum > 0 AND NOT attisdropped`,
      );
      expect(types).toEqual(Object.fromEntries(reported.map((r) => [r.name, r.type])));
      expect(types).toMatchObject({ title: 'text', rental_rate: 'numeric(4,2)', rating: 'mpaa_rating', special_features: 'text[]' });
    });

    it('reads a few distinct sample values of text columns when asked, and none otherwise', async () => {
      const withSamples = await importer.import({ connectionString: db.url, schemas: ['public'], sampleValues: true });
      const rating = withSamples.catalog.schemas[0]!.tables.find((t) => t.name === 'film')!.columns.find((c) => c.name === 'rating')!;
      const distinct = await pgQuery<{ v: string }>(db.url, 'SELECT DISTINCT rating::text AS v FROM public.film WHERE rating IS NOT NULL');
      expect(rating.examples?.length).toBeGreaterThan(0);
      expect(rating.examples!.length).toBeLessThanOrEqual(5);
      for (const v of rating.examples!) expect(distinct.map((d) => d.v)).toContain(v);
      const filmId = withSamples.catalog.schemas[0]!.tables.find((t) => t.name === 'film')!.columns.find((c) => c.name === 'film_id')!;
      expect(filmId.examples).toBeUndefined();

      const without = await importer.import({ connectionString: db.url, schemas: ['public'] });
      expect(without.catalog.schemas[0]!.tables.flatMap((t) => t.columns).filter((c) => c.examples)).toEqual([]);
    });

    it('answers a schema that does not exist with source_schema_not_found naming it', async () => {
      const error = await expectImportError(importer.import({ connectionString: db.url, schemas: ['public', 'nope'] }), 'source_schema_not_found', /"nope"/);
      expect(error.details).toEqual({ missing: ['nope'] });
    });

    it('answers a statement that runs past the statement timeout with source_timeout', async () => {
      await pgQuery(db.url, `CREATE VIEW public.slow_view AS SELECT 'x'::text AS t FROM pg_sleep(3)`);
      try {
        const impatient = new CatalogImporter({ connectMs: 3_000, statementMs: 500 });
        await expectImportError(impatient.import({ connectionString: db.url, sampleValues: true }), 'source_timeout', /longer than 500 ms/);
      } finally {
        await pgQuery(db.url, 'DROP VIEW public.slow_view');
      }
    });

    it('reads in a read-only session with its own timeouts, set after connecting', async () => {
      const sessions = await pgQuery<{ ro: string }>(db.url, `SELECT setting AS ro FROM pg_settings WHERE name = 'default_transaction_read_only'`);
      expect(sessions[0]!.ro).toBe('off');
      // A view that reports the settings of the session reading it: sampling its text columns reads them
      // through the importer's own session.
      await pgQuery(
        db.url,
        `CREATE SCHEMA probe; CREATE VIEW probe.session AS SELECT current_setting('default_transaction_read_only') AS read_only,
           current_setting('statement_timeout') AS statement_timeout, current_setting('transaction_read_only') AS in_transaction`,
      );
      try {
        const { catalog } = await importer.import({ connectionString: db.url, schemas: ['probe'], sampleValues: true });
        const columns = Object.fromEntries(catalog.schemas[0]!.tables[0]!.columns.map((c) => [c.name, c.examples]));
        expect(columns).toEqual({ read_only: ['on'], statement_timeout: ['10s'], in_transaction: ['on'] });
      } finally {
        await pgQuery(db.url, 'DROP SCHEMA probe CASCADE');
      }
    });
  });

  describe('PostgreSQL: Chinook', () => {
    let db: TestDatabase<{ destroy(): Promise<void> }>;
    beforeAll(async () => {
      // The script creates and enters a database "chinook" of its own; load it into this file's database instead.
      db = await loadPostgres(['Chinook_PostgreSql.sql'], (sql) => sql.replace(/^(DROP DATABASE|CREATE DATABASE|\\c ).*$/gm, ''));
      await pgQuery(db.url, `COMMENT ON TABLE public.invoice_line IS 'One purchased track of an invoice'; COMMENT ON COLUMN public.track.milliseconds IS 'Length of the track'`);
    });
    afterAll(() => db.drop());

    it('imports the eleven tables with their keys and comments, and names the catalog after the database', async () => {
      const { catalog } = await importer.import({ connectionString: db.url });
      const tables = catalog.schemas.flatMap((s) => s.tables);
      expect(tables.map((t) => t.name).sort()).toEqual(
        ['album', 'artist', 'customer', 'employee', 'genre', 'invoice', 'invoice_line', 'media_type', 'playlist', 'playlist_track', 'track'],
      );
      expect(catalog.name).toBe(new URL(db.url).pathname.slice(1));
      const lines = catalogLines(catalog, 'public');
      expect(lines).toEqual(expect.arrayContaining([
        'fk invoice_line(track_id) -> public.track(track_id)',
        'column playlist_track.playlist_id nullable=false pk=true',
        'column playlist_track.track_id nullable=false pk=true',
        'comment invoice_line: One purchased track of an invoice',
        'comment track.milliseconds: Length of the track',
      ]));
      const fkCount = await pgQuery<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM information_schema.referential_constraints WHERE constraint_schema = 'public'`);
      expect(lines.filter((l) => l.startsWith('fk ')).length).toBe(fkCount[0]!.n);
    });
  });

  describe('MariaDB: Chinook', () => {
    const database = uniqueName('chinook').replace(/-/g, '_');
    const url = `mysql://root@127.0.0.1:3306/${database}`;
    const mysql = (sql: string) => execFileSync('mysql', ['-uroot', '-h127.0.0.1', '-P3306'], { input: sql, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });

    beforeAll(() => {
      mysql(readFileSync(path.join(DATASETS, 'Chinook_MySql.sql'), 'utf8').replaceAll('`Chinook`', `\`${database}\``));
      mysql(`USE \`${database}\`;
        ALTER TABLE Album COMMENT = 'One album of an artist';
        ALTER TABLE Track MODIFY Milliseconds INT NOT NULL COMMENT 'Length of the track';`);
    });
    afterAll(() => {
      mysql(`DROP DATABASE IF EXISTS \`${database}\``);
    });

    it('imports every table, column, key and comment that information_schema reports', async () => {
      const { catalog } = await importer.import({ connectionString: url });
      const conn = await createConnection({ ...MYSQL, database: 'information_schema' });
      try {
        const q = async <T>(sql: string) => (await conn.query(sql, [database]))[0] as T[];
        const tables = await q<{ name: string; type: string; comment: string }>(
          'SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_COMMENT AS comment FROM TABLES WHERE TABLE_SCHEMA = ?',
        );
        const columns = await q<{ table: string; name: string; nullable: string; comment: string; type: string }>(
          'SELECT TABLE_NAME AS `table`, COLUMN_NAME AS name, IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment, COLUMN_TYPE AS type FROM COLUMNS WHERE TABLE_SCHEMA = ?',
        );
        const keys = await q<{ table: string; name: string; column: string; rt: string | null; rc: string | null }>(
          `SELECT TABLE_NAME AS \`table\`, CONSTRAINT_NAME AS name, COLUMN_NAME AS \`column\`, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
             FROM KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
        );
        const pks = new Set(keys.filter((k) => k.name === 'PRIMARY').map((k) => `${k.table}.${k.column}`));
        const fks = new Map<string, { table: string; cols: string[]; rt: string; rcs: string[] }>();
        for (const k of keys.filter((x) => x.rt !== null)) {
          const fk = fks.get(`${k.table}/${k.name}`) ?? { table: k.table, cols: [], rt: k.rt!, rcs: [] };
          fk.cols.push(k.column);
          fk.rcs.push(k.rc!);
          fks.set(`${k.table}/${k.name}`, fk);
        }
        const expected = [
          ...tables.map((t) => `table ${t.name} ${t.type === 'VIEW' ? 'view' : 'table'}`),
          ...tables.filter((t) => t.comment).map((t) => `comment ${t.name}: ${t.comment}`),
          ...columns.map((c) => `column ${c.table}.${c.name} nullable=${c.nullable === 'YES'} pk=${pks.has(`${c.table}.${c.name}`)}`),
          ...columns.filter((c) => c.comment).map((c) => `comment ${c.table}.${c.name}: ${c.comment}`),
          ...[...fks.values()].map((f) => `fk ${f.table}(${f.cols.join(',')}) -> ${database}.${f.rt}(${f.rcs.join(',')})`),
        ].sort();
        expect(catalogLines(catalog, database)).toEqual(expected);
        expect(expected).toEqual(expect.arrayContaining(['comment Album: One album of an artist', 'comment Track.Milliseconds: Length of the track']));
        expect(tables).toHaveLength(11);
        const types = catalog.schemas[0]!.tables.flatMap((t) => t.columns.map((c) => `${t.name}.${c.name} ${c.type}`)).sort();
        expect(types).toEqual(columns.map((c) => `${c.table}.${c.name} ${c.type}`).sort());
      } finally {
        await conn.end();
      }
    });

    it('reads sample values of text columns when asked', async () => {
      const { catalog } = await importer.import({ connectionString: url, sampleValues: true });
      const genre = catalog.schemas[0]!.tables.find((t) => t.name === 'Genre')!.columns.find((c) => c.name === 'Name')!;
      expect(genre.examples).toEqual(['Alternative', 'Alternative & Punk', 'Blues', 'Bossa Nova', 'Classical']);
    });

    it('answers a wrong password with source_access_denied, without the password in the message', async () => {
      const error = await expectImportError(importer.import({ connectionString: `mysql://root:hunter2-wrong@127.0.0.1:3306/${database}` }), 'source_access_denied', /refused user "root"/);
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('hunter2');
    });

    it('answers a database that does not exist with source_schema_not_found or source_database_not_found', async () => {
      await expectImportError(importer.import({ connectionString: url, schemas: ['no_such_db'] }), 'source_schema_not_found', /"no_such_db"/);
      await expectImportError(importer.import({ connectionString: 'mysql://root@127.0.0.1:3306/no_such_db_x' }), 'source_database_not_found', /no_such_db_x/);
    });
  });

  describe('connection failures', () => {
    it('answers an unknown host with source_unreachable naming the host', async () => {
      await expectImportError(importer.import({ connectionString: 'postgres://u:secret@no-such-host.invalid:5432/db' }), 'source_unreachable', /unknown host "no-such-host.invalid"/);
    });

    it('answers a port where nothing listens with source_unreachable', async () => {
      await expectImportError(importer.import({ connectionString: 'mysql://root@127.0.0.1:1/x' }), 'source_unreachable', /not reachable/);
    });

    it.each(['postgres', 'mysql'])('answers a %s server that never answers with source_unreachable after the connect timeout', async (scheme) => {
      const silent = await freeSilentPort();
      try {
        const quick = new CatalogImporter({ connectMs: 500, statementMs: 1_000 });
        await expectImportError(quick.import({ connectionString: `${scheme}://u:p@127.0.0.1:${silent.port}/db` }), 'source_unreachable', /did not answer within 500 ms/);
      } finally {
        await silent.close();
      }
    });

    it.each([
      ['host', '?host=127.0.0.1'],
      ['options', '?options=-c%20default_transaction_read_only%3Doff'],
      ['statement_timeout', '?statement_timeout=0'],
      ['sslrootcert', '?sslmode=verify-full&sslrootcert=/etc/hostname'],
    ])('refuses the parameter %s before connecting', async (name, query) => {
      const server = await countingServer();
      try {
        await expectImportError(importer.import({ connectionString: `postgres://u:p@127.0.0.1:${server.port}/db${query}` }), 'invalid_connection_string', new RegExp(`"${name}" is not allowed`));
        expect(server.connections()).toBe(0);
      } finally {
        await server.close();
      }
    });

    it('refuses a host outside IMPORT_ALLOWED_HOSTS before sending it anything, the same whether anything listens or not', async () => {
      // Only 127.0.0.2 may be read; the servers below listen on 127.0.0.1, so nothing may reach them.
      const strict = new CatalogImporter({ connectMs: 2_000, statementMs: 5_000, policy: new SourcePolicy(['127.0.0.2/32']) });
      const listening = await countingServer();
      const closed = await countingServer();
      await closed.close();
      try {
        const answers: string[] = [];
        for (const url of [`postgres://u:p@127.0.0.1:${listening.port}/db`, `postgres://u:p@127.0.0.1:${closed.port}/db`, `mysql://root@localhost:${listening.port}/db`]) {
          const error = await expectImportError(strict.import({ connectionString: url }), 'source_not_allowed', /IMPORT_ALLOWED_HOSTS/);
          answers.push(error.message);
        }
        expect(answers[0]).toBe(answers[1]);
        expect(listening.connections()).toBe(0);
      } finally {
        await listening.close();
      }
    });

    it('reads a server the policy allows by name, connecting to the address it checked', async () => {
      const pg = await loadPostgres([]);
      try {
        await pgQuery(pg.url, 'CREATE TABLE t (id int PRIMARY KEY)');
        const byName = new CatalogImporter({ connectMs: 2_000, statementMs: 5_000, policy: new SourcePolicy(['localhost']) });
        const url = new URL(pg.url);
        url.hostname = 'localhost';
        const { catalog } = await byName.import({ connectionString: url.toString() });
        expect(catalog.schemas.flatMap((s) => s.tables.map((t) => t.name))).toEqual(['t']);
        await expectImportError(byName.import({ connectionString: pg.url }), 'source_not_allowed', /"127.0.0.1"/);
      } finally {
        await pg.drop();
      }
    });

    it('refuses a connection string it cannot read or whose scheme it does not know', async () => {
      await expectImportError(importer.import({ connectionString: 'not a url' }), 'invalid_connection_string', /not a URL/);
      await expectImportError(importer.import({ connectionString: 'sqlserver://h/db' }), 'invalid_connection_string', /use postgres:\/\//);
    });
  });
});
