import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repositoryRoot, sharedSpecPath } from './shared-specs';

describe(sharedSpecPath.name, () => {
  it('looks for the spec in the shared folder beside the repository root', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'specs-'));
    const repo = path.join(base, 'repo');
    mkdirSync(path.join(base, 'shared', 'qdrant'), { recursive: true });
    mkdirSync(repo);
    writeFileSync(path.join(base, 'shared', 'qdrant', 'openapi.json'), '{}');
    expect(sharedSpecPath('qdrant', repo)).toBe(path.join(base, 'shared', 'qdrant', 'openapi.json'));
  });

  it('fails with the expected path when the spec is missing', () => {
    const repo = path.join(mkdtempSync(path.join(tmpdir(), 'specs-')), 'repo');
    expect(() => sharedSpecPath('openai', repo)).toThrow(/missing: expected .*shared[/\\]openai[/\\]openapi\.yaml/);
  });
});

describe(repositoryRoot.name, () => {
  it('finds the folder holding pnpm-workspace.yaml', () => {
    expect(repositoryRoot()).toBe(path.resolve(__dirname, '../../../..'));
  });
});
