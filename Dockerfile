# One image for every role; the command picks the role (node started directly, never through npm, which would
# swallow SIGTERM and break the graceful drain):
#   worker     node dist/workers/main.js          (default CMD; health server on $PORT, default 3001)
#   board      node dist/board/main.js        (Bull Board + /healthz /readyz /metrics on $PORT, default 3000)
#   migrate    node dist/scripts/migrate.js       (one-shot; Railway pre-deploy command)
#   schedules  node dist/scripts/schedules.js     (one-shot; the board also syncs them at start)
#   backfill   node dist/scripts/backfill.js --parliament 44 --session 1 [--wait]
#
# No BuildKit cache mounts: Railway's builder rejects mount ids without its service prefix.
# Node: a current LTS line. The code also runs on Node 20.19+, so bumping this is a one-line change:
#   docker build --build-arg NODE_VERSION=26 .
ARG NODE_VERSION=24

# --- build: dev dependencies + tsc -> dist/ -------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY queues ./queues
COPY workers ./workers
COPY board ./board
COPY scripts ./scripts
RUN npm run build

# --- production dependencies only (package.json "overrides" are honoured through the lockfile) -----------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime: compiled output + production node_modules, non-root ---------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
USER node
# Documentation only: the board listens on 3000, a worker's health server on 3001 (both follow $PORT).
EXPOSE 3000 3001
# Compose, Kubernetes and Railway send SIGTERM and wait: the worker drains (WORKER_DRAIN_SECONDS), then exits.
STOPSIGNAL SIGTERM
CMD ["node", "dist/workers/main.js"]
