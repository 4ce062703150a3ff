/**
 * Test support of the catalog package, a door of its own (`@catalog-indexer/catalog/testing`) so that nothing
 * an app bundles carries it: the lint refuses this import in product code.
 */
export { shopCatalog } from './shop.fixture';
