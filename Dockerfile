# One image recipe for the three apps; docker-compose.yml picks the app with the APP build argument.
# Apps run from TypeScript source through tsx's loader (no separate build output to keep in step).
FROM node:20-bookworm-slim AS deps
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY apps ./apps
COPY packages ./packages
COPY tests ./tests
ARG APP=api
RUN pnpm install --frozen-lockfile --prod --filter "@catalog-indexer/${APP}..."

FROM node:20-bookworm-slim
ARG APP=api
ENV NODE_ENV=production APP=${APP}
WORKDIR /app
COPY --from=deps /app /app
USER node
WORKDIR /app/apps/${APP}
CMD ["sh", "-c", "exec node --import tsx src/main.ts"]
