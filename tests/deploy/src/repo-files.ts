import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The repository root (tests/deploy/src → ../../..). */
export const ROOT = path.resolve(__dirname, '../../..');

export function readRepoFile(relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8');
}

/** A YAML file of the repository, anchors and `<<` merge keys resolved as Compose resolves them. */
export function readYaml<T>(relative: string): T {
  return parse(readRepoFile(relative), { merge: true }) as T;
}
