import { type core } from 'zod';
import {
  type Catalog,
  catalogSchema,
  columnSchema,
  documentSchema,
  exampleSchema,
  foreignKeyReferenceSchema,
  foreignKeySchema,
  schemaSchema,
  tableSchema,
} from './catalog.schema';
import { type CatalogProblem, CatalogValidationError } from './catalog-validation.error';
import { checkCatalogRules } from './catalog.rules';
import { relationshipKey } from './keys';
import { didYouMean } from './suggest';
import { findUnsafeText } from './unsafe-text';

type PathSegment = PropertyKey;

/** `['schemas', 0, 'tables', 2, 'name']` → `schemas[0].tables[2].name`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** The fields allowed in the object at `path`, for "unknown field" messages. */
function allowedFields(path: readonly PathSegment[]): string[] {
  const named = path.filter((s): s is string => typeof s === 'string');
  const last = named[named.length - 1];
  const shape = (() => {
    switch (last) {
      case undefined:
        return catalogSchema.shape;
      case 'schemas':
        return schemaSchema.shape;
      case 'tables':
        return tableSchema.shape;
      case 'columns':
        return columnSchema.shape;
      case 'foreignKeys':
        return foreignKeySchema.shape;
      case 'references':
        return foreignKeyReferenceSchema.shape;
      case 'documents':
        return documentSchema.shape;
      case 'examples':
        return exampleSchema.shape;
      default:
        return {};
    }
  })();
  return Object.keys(shape);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}

const EXPECTED: Record<string, string> = {
  string: 'text (a JSON string)',
  array: 'a list (a JSON array)',
  object: 'an object',
  boolean: 'true or false',
  number: 'a number',
};

function lengthOf(input: unknown): number | undefined {
  return typeof input === 'string' || Array.isArray(input) ? input.length : undefined;
}

/** One zod issue as problems whose messages say what to fix. */
function describeIssue(issue: core.$ZodIssue): CatalogProblem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return [{ path, message: `is required: give ${expected}` }];
      return [{ path, message: `must be ${expected}, not ${describeValue(issue.input)}` }];
    }
    case 'too_big': {
      const actual = lengthOf(issue.input);
      const has = actual === undefined ? '' : ` (it has ${actual})`;
      if (issue.origin === 'string') {
        return [{ path, message: `must be at most ${String(issue.maximum)} characters${has}; shorten it` }];
      }
      if (issue.origin === 'array') {
        return [{ path, message: `must have at most ${String(issue.maximum)} items${has}; remove some` }];
      }
      return [{ path, message: issue.message }];
    }
    case 'too_small': {
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      if (issue.origin === 'array') {
        return [{ path, message: `must list at least ${String(issue.minimum)} item(s)` }];
      }
      return [{ path, message: issue.message }];
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(' or ');
      return [{ path, message: `must be ${options}, not ${describeValue(issue.input)}` }];
    }
    case 'unrecognized_keys': {
      const allowed = allowedFields(issue.path);
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: `is not a known field; remove it or use one of: ${allowed.join(', ')}.${didYouMean(key, allowed)}`,
      }));
    }
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'invalid_key':
    case 'invalid_union':
    case 'not_multiple_of':
      return [{ path, message: issue.message }];
  }
}

/** A parsed catalog and what parsing changed in it. */
export interface ParsedCatalog {
  catalog: Catalog;
  /**
   * Changes made without refusing the upload, to tell the user: today, exact repeats of a foreign key
   * (same columns, same referenced table and columns) merged into the first, as a database that declares
   * a constraint twice still has one relationship.
   */
  notices: CatalogProblem[];
}

/** Drops exact repeats of a table's foreign keys, keeping the first; one notice per repeat dropped. */
function mergeDuplicateForeignKeys(catalog: Catalog): CatalogProblem[] {
  const notices: CatalogProblem[] = [];
  catalog.schemas.forEach((schema, i) => {
    schema.tables.forEach((table, j) => {
      if (!table.foreignKeys) return;
      const first = new Map<string, number>();
      const kept = table.foreignKeys.filter((fk, k) => {
        const key = relationshipKey({ schema: schema.name, table: table.name, columns: fk.columns }, fk.references);
        const earlier = first.get(key);
        if (earlier === undefined) {
          first.set(key, k);
          return true;
        }
        const path = `schemas[${i}].tables[${j}].foreignKeys`;
        notices.push({ path: `${path}[${k}]`, message: `repeats the foreign key at ${path}[${earlier}]; merged into it` });
        return false;
      });
      table.foreignKeys = kept;
    });
  });
  return notices;
}

/**
 * Validates an uploaded catalog and returns it typed, with defaults applied (a table's `type` is `'table'`
 * unless given) and exact duplicate foreign keys merged (each merge reported in `notices`). Checks the shape
 * and limits of every item (see `catalogSchema`, `CATALOG_LIMITS`), then the rules across items: names
 * unique within their parent, examples not repeated, foreign keys whose columns exist on both ends and
 * match in number; no text holds a NUL character or a lone surrogate.
 *
 * @throws CatalogValidationError listing every problem found, each with its path and what to fix.
 */
export function parseCatalogWithNotices(input: unknown): ParsedCatalog {
  const result = catalogSchema.safeParse(input, { reportInput: true });
  const problems = result.success ? [] : result.error.issues.flatMap(describeIssue);
  problems.push(...checkCatalogRules(input));
  // Text no database can store; a name already refused for its NUL is not reported twice.
  const named = new Set(problems.filter((p) => p.message.includes('NUL')).map((p) => p.path));
  problems.push(
    ...findUnsafeText(input)
      .map((u) => ({ path: formatPath(u.path), message: u.message }))
      .filter((u) => !named.has(u.path)),
  );
  if (problems.length > 0 || !result.success) throw new CatalogValidationError(problems);
  const notices = mergeDuplicateForeignKeys(result.data);
  return { catalog: result.data, notices };
}

/** {@link parseCatalogWithNotices} without the notices: for catalogs already stored, whose notices were given at upload. */
export function parseCatalog(input: unknown): Catalog {
  return parseCatalogWithNotices(input).catalog;
}
