interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route an Express 5 app has mounted, as `METHOD /path` with OpenAPI's `{param}` for `:param`, read
 * from its router (nested routers included, under the path they are mounted at). Paths under `exclude`
 * (a UI mounted as a whole, such as Bull Board) are left out.
 */
export function mountedRoutes(app: unknown, exclude: readonly string[] = []): string[] {
  const routes: string[] = [];
  const join = (prefix: string, path: string) => (path === '/' ? prefix || '/' : `${prefix}${path}`.replace(/\/+$/, '') || '/');
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`a route under ${prefix} has a path that is not a string`);
        const path = join(prefix, layer.route.path).replace(/:(\w+)/g, '{$1}');
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') routes.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
        const prefixed = join(prefix, mount);
        if (!exclude.some((e) => prefixed === e || prefixed.startsWith(`${e}/`))) walk(layer.handle.stack, prefixed === '/' ? '' : prefixed);
      }
    }
  };
  const router = (app as { router?: { stack?: Layer[] } }).router;
  if (!router?.stack) throw new Error('not an Express 5 app: it has no router stack');
  walk(router.stack, '');
  return [...new Set(routes)].sort();
}
