import { envSchema } from '@catalog-indexer/config';
import { readRepoFile } from './repo-files';

/** The variables named in the first column of the README's Configuration table, in order. */
function documentedSettings(): string[] {
  const readme = readRepoFile('README.md');
  const start = readme.indexOf('\n## Configuration\n');
  if (start < 0) throw new Error('README.md has no "## Configuration" section');
  const section = readme.slice(start + 1).split(/\n## /)[0]!;
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

describe("the README's settings table", () => {
  it('names every setting of the configuration schema once, and nothing else', () => {
    const documented = documentedSettings();
    const schema = Object.keys(envSchema.shape);
    expect(documented.filter((name, i) => documented.indexOf(name) !== i)).toEqual([]);
    expect({ missingFromReadme: schema.filter((k) => !documented.includes(k)), notInSchema: documented.filter((k) => !schema.includes(k)) }).toEqual({
      missingFromReadme: [],
      notInSchema: [],
    });
  });
});
