import { spawnSync } from 'node:child_process';
import path from 'node:path';

describe('pnpm db:migrate', () => {
  it('refuses an argument before touching the database, naming it', () => {
    const tsx = path.resolve(__dirname, '../../../node_modules/.bin/tsx');
    const run = spawnSync(tsx, [path.join(__dirname, 'migrate.cli.ts'), '--dry-run'], {
      encoding: 'utf8',
      // A database that does not exist: reaching it would be a different failure.
      env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    });
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toContain('pnpm db:migrate takes no arguments, got \\"--dry-run\\"');
  });
});
