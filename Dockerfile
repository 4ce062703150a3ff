# One image recipe for the three apps; docker-compose.yml picks the app with the APP build argument.
# The build stage type-checks the app and bundles it to JavaScript (esbuild, scripts/build-app.js: the
# workspace packages are compiled into apps/<app>/dist/main.js); the image holds that bundle and the app's
# production dependencies only, and runs it with plain node (no TypeScript loader at run time).
FROM node:20-bookworm-slim AS build
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY scripts ./scripts
COPY apps ./apps
COPY packages ./packages
COPY tests ./tests
ARG APP=api
RUN pnpm install --frozen-lockfile
RUN pnpm --filter "@catalog-indexer/${APP}" build
# The app's production dependencies (the third-party packages its bundle requires; the build fails when one
# is missing from its "dependencies"), then the bundle beside them.
RUN pnpm --filter "@catalog-indexer/${APP}" deploy --prod --legacy /out \
  && rm -rf /out/src /out/tsconfig.json \
  && cp -r "apps/${APP}/dist" /out/dist

FROM node:20-bookworm-slim
ARG APP=api
ENV NODE_ENV=production APP=${APP}
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
CMD ["node", "dist/main.js"]
