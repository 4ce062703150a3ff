export { spawnApp, compiledEntry, waitForHttp, fatalLogMessage, REPO_ROOT, type AppName, type AppProcess } from './app-process';
export { ensureDatabase } from './ensure-database';
