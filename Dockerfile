# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# install scripts off (no compilers in the image); our one install step, the patches, runs explicitly
RUN npm ci --ignore-scripts && npx patch-package
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM node:20-slim
ENV NODE_ENV=production \
    LIBERATOR_CONFIG=/etc/liberator/connectors.yaml
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# patches/: kafkajs's produce path (speed) and zongji's table map (column nullability)
RUN npm ci --omit=dev --ignore-scripts && npx patch-package && npm cache clean --force
COPY --from=build /app/dist ./dist
# the status page at / (plain files, nothing to build)
COPY web/status ./web/status
# connectors.yaml is mounted (ConfigMap) at /etc/liberator; secrets are read through ${file:…}
VOLUME ["/etc/liberator"]
USER node
EXPOSE 8083
# exec form: node is PID 1 and handles SIGTERM/SIGINT itself (src/commands/run.ts), spawning no children
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LIBERATOR_ADMIN_PORT||8083)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
