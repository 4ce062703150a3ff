/** One problem found in an uploaded catalog. */
export interface CatalogProblem {
  /** Where the problem is, e.g. `schemas[0].tables[2].columns[1].name`; `""` for the catalog itself. */
  path: string;
  /** What is wrong and what to do about it. */
  message: string;
}

/** Shown in the error message; the full list is always in `details`. */
const PROBLEMS_IN_MESSAGE = 5;

/** The uploaded catalog is not valid; `details` lists every problem found, not only the first. */
export class CatalogValidationError extends Error {
  readonly code = 'invalid_catalog';
  /** A job that meets it cannot succeed on a retry (see the queue's job worker). */
  readonly permanent = true;
  readonly details: readonly CatalogProblem[];

  constructor(details: readonly CatalogProblem[]) {
    const shown = details.slice(0, PROBLEMS_IN_MESSAGE).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    const more = details.length > PROBLEMS_IN_MESSAGE ? `; and ${details.length - PROBLEMS_IN_MESSAGE} more` : '';
    const noun = details.length === 1 ? 'problem' : 'problems';
    super(`The catalog has ${details.length} ${noun}: ${shown.join('; ')}${more}`);
    this.name = 'CatalogValidationError';
    this.details = details;
  }
}
