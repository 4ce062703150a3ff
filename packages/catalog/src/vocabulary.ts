import { buildVocabulary } from '@catalog-indexer/text';
import { type Catalog } from './catalog.schema';

/** Every name and description of a catalog's schemas, tables and columns. */
function* catalogNames(catalog: Catalog): Generator<string> {
  for (const schema of catalog.schemas) {
    yield schema.name;
    if (schema.description) yield schema.description;
    for (const table of schema.tables) {
      yield table.name;
      if (table.description) yield table.description;
      for (const column of table.columns) {
        yield column.name;
        if (column.description) yield column.description;
      }
    }
  }
}

/**
 * The words of a catalog's own names and descriptions: the vocabulary against which the text analysis
 * splits compound identifiers (`Highschooler` → `high schooler` when the catalog also says "high" and
 * "schooler"). Documents and examples are left out: they are prose, not the catalog's naming.
 */
export function catalogVocabulary(catalog: Catalog): Set<string> {
  return buildVocabulary(catalogNames(catalog));
}
