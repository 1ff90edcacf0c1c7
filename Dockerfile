# syntax=docker/dockerfile:1
# The hubmerge Hub bot as a Hugging Face Docker Space (docs/bot.md): Hub webhooks in,
# GitHub repository_dispatch out. Spaces run the container as uid 1000 and route to port 7860.

# --- build: the TypeScript compiler is a dev dependency, so compile in a throw-away stage.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled lib/ only.
FROM node:24-slim
ENV NODE_ENV=production \
    PORT=7860 \
    HUBMERGE_BOT_TRUST_PROXY=true
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies, no install scripts; the optional GPU binding is of no use to the bot.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/lib ./lib
# The node image's own unprivileged user has uid 1000, the one Spaces run as.
USER node
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Settings come from Space variables (HUBMERGE_BOT_REPOS, ...) or a file named by HUBMERGE_BOT_CONFIG;
# secrets from Space secrets (HF_WEBHOOK_SECRET, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, ...).
CMD ["node", "bin/hubmerge.js", "bot"]
