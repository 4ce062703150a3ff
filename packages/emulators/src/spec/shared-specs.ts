import { existsSync } from 'node:fs';
import path from 'node:path';

/** The official API descriptions the emulators follow, kept in the `shared` folder beside the repository. */
export type SharedSpec = 'qdrant' | 'openai';

const FILES: Record<SharedSpec, string> = {
  qdrant: path.join('qdrant', 'openapi.json'),
  openai: path.join('openai', 'openapi.yaml'),
};

/** The repository root: the nearest folder above this file holding `pnpm-workspace.yaml`. */
export function repositoryRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}: cannot locate the repository root`);
    dir = parent;
  }
}

/**
 * Path of an official spec: `<repository root>/../shared/<name>/openapi.*`. Throws, naming the expected
 * path, when the file is missing, so a spec test fails instead of passing vacuously. The specs are never
 * copied into the repository.
 */
export function sharedSpecPath(name: SharedSpec, root: string = repositoryRoot()): string {
  const file = path.resolve(root, '..', 'shared', FILES[name]);
  if (!existsSync(file)) {
    throw new Error(
      `The official ${name} OpenAPI spec is missing: expected ${file} (the "shared" folder must sit beside the ` +
        'repository root). Spec conformance cannot be checked without it.',
    );
  }
  return file;
}
