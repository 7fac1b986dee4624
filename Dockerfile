# The three Sluice images from one Dockerfile, one build target each (docs/deploy.md, "Images"):
#   docker build --target runtime    -t ghcr.io/sluice/sluice-runtime:0.1.0 .
#   docker build --target controller -t ghcr.io/sluice/sluice-controller:0.1.0 .   (also holds streamctl)
#   docker build --target registry   -t ghcr.io/sluice/sluice-registry:0.1.0 .
# Without a Docker daemon: npm run images (buildah, from a base image made locally; see images/build.sh).
ARG BASE=node:24-bookworm-slim

# ---- Dependencies: only the package manifests, so a source change reuses these layers.
FROM ${BASE} AS dependencies
# A build argument is in RUN's environment but not in the image: lets npm trust a TLS-re-signing proxy's CA
# (mounted for the build only, as images/build.sh does), and is empty everywhere else.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
COPY crds/package.json crds/
COPY runtime-image/package.json runtime-image/
COPY controller/package.json controller/
COPY cli/package.json cli/
COPY registry/package.json registry/
# npm ci checks the lockfile against every workspace, so the two that no image holds are here too.
COPY test/package.json test/
COPY bench/package.json bench/
# Install scripts stay off: the only production dependency with one is @nxtedition/rocksdb, whose prebuilt
# binary each image loads in a RUN below instead; the compiler needs none.
ENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_IGNORE_SCRIPTS=true
RUN npm ci --include-workspace-root -w crds -w runtime-image -w controller -w cli -w registry
# Each image's production dependencies, on their own: the registry holds no RocksDB and no AWS SDK.
RUN mkdir /production && cp package.json package-lock.json /production/ && \
    for workspace in crds runtime-image controller cli registry test bench; do \
      mkdir -p /production/$workspace && cp $workspace/package.json /production/$workspace/; \
    done
WORKDIR /production
RUN npm ci --omit=dev --prefer-offline -w runtime-image && mv node_modules /runtime-node_modules && \
    npm ci --omit=dev --prefer-offline -w controller -w cli && mv node_modules /controller-node_modules && \
    npm ci --omit=dev --prefer-offline -w registry && mv node_modules /registry-node_modules
# RocksDB's C++ sources, zipped prebuilds and other platforms' binaries are 40 MB no image runs.
RUN for rocksdb in /runtime-node_modules/@nxtedition/rocksdb /controller-node_modules/@nxtedition/rocksdb; do \
      rm -rf $rocksdb/deps $rocksdb/prebuilds.zip $rocksdb/binding.cc $rocksdb/*.h $rocksdb/build.sh; \
      find $rocksdb/prebuilds -mindepth 1 -maxdepth 1 ! -name linux-x64 ! -name linux-arm64 -exec rm -rf {} +; \
    done

# ---- TypeScript → JavaScript for crds, runtime, controller, cli and registry.
FROM dependencies AS build
WORKDIR /src
COPY tsconfig.base.json tsconfig.build.json ./
COPY crds/ crds/
COPY runtime-image/ runtime-image/
COPY controller/ controller/
COPY cli/ cli/
COPY registry/ registry/
# Declarations and source maps serve editors and tests, not a container. The CRD validators are precompiled as
# `npm run build` does, so `streamctl validate` in the image starts without compiling the schemas.
RUN npx tsc -b tsconfig.build.json && node crds/dist/precompile.js && \
    find crds/dist runtime-image/dist controller/dist cli/dist registry/dist \( -name '*.d.ts' -o -name '*.map' -o -name .tsbuildinfo \) -delete && \
    chmod +x controller/dist/main.js cli/dist/main.js registry/dist/main.js

# ---- What every image shares: tini as PID 1, a non-root user, nothing written outside the volumes.
FROM ${BASE} AS image
# tini forwards SIGTERM to Node (so a pod stops with a final commit) and reaps zombies. Debian's package; the
# locally made base image already has it.
RUN command -v tini >/dev/null || { apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*; }
# The images run node only: npm, corepack and yarn (and the advisories an image scan finds in their dependencies) go.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# 65532: the user the chart's podSecurityContext runs as (runAsUser), so files and the pod agree.
RUN groupadd --gid 65532 sluice && \
    useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sluice && \
    mkdir -p /var/lib/sluice/state && chown -R 65532:65532 /var/lib/sluice
# With a read-only root filesystem, RocksDB state (SLUICE_STATE_DIR) and temporary files (TMPDIR) go to volumes
# mounted at these paths: an emptyDir in a pod, --tmpfs /tmp and -v for docker run.
ENV NODE_ENV=production SLUICE_STATE_DIR=/var/lib/sluice/state TMPDIR=/tmp
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/crds/package.json crds/
COPY --from=build /src/crds/manifests/ crds/manifests/
COPY --from=build /src/crds/dist/ crds/dist/
# The commit and the build time (org.opencontainers.image.revision, .created) change at every build: they come as
# --label from the build command, so they do not invalidate the cached layers.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.vendor="Sluice" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/sluice/sluice" \
      org.opencontainers.image.documentation="https://github.com/sluice/sluice/blob/main/docs/deploy.md" \
      org.opencontainers.image.base.name="node:24-bookworm-slim"
USER 65532:65532

# ---- The schema registry. The chart passes --store=kafka:…; without arguments it keeps schemas in a folder of a volume.
FROM image AS registry
COPY --from=dependencies /registry-node_modules/ node_modules/
COPY --from=build /src/registry/package.json registry/
COPY --from=build /src/registry/dist/ registry/dist/
LABEL org.opencontainers.image.title="sluice-registry" \
      org.opencontainers.image.description="Sluice's Confluent Schema Registry-compatible REST service"
EXPOSE 8081
ENTRYPOINT ["tini", "--", "node", "/app/registry/dist/main.js"]
CMD ["--host=0.0.0.0", "--port=8081", "--store=file:/var/lib/sluice/schemas"]

# ---- The operator: sluice-controller, and streamctl for kubectl exec.
FROM image AS controller
COPY --from=dependencies /controller-node_modules/ node_modules/
COPY --from=build /src/runtime-image/package.json runtime-image/
COPY --from=build /src/runtime-image/dist/ runtime-image/dist/
COPY --from=build /src/controller/package.json controller/
COPY --from=build /src/controller/dist/ controller/dist/
COPY --from=build /src/cli/package.json cli/
COPY --from=build /src/cli/dist/ cli/dist/
USER root
RUN ln -s /app/controller/dist/main.js /usr/local/bin/sluice-controller && ln -s /app/cli/dist/main.js /usr/local/bin/streamctl
USER 65532:65532
# The controller compiles jobs with the runtime's compiler, which loads RocksDB: fail the build, not the pod.
RUN node -e "require('@nxtedition/rocksdb')"
LABEL org.opencontainers.image.title="sluice-controller" \
      org.opencontainers.image.description="The Sluice operator: Topic, SchemaSubject and StreamJob reconcilers; streamctl"
EXPOSE 8080
ENTRYPOINT ["tini", "--", "node", "/app/controller/dist/main.js"]

# ---- The stream processing runtime: one pod of a StreamJob, configured by SLUICE_* variables (docs/runtime.md).
FROM image AS runtime
COPY --from=dependencies /runtime-node_modules/ node_modules/
COPY --from=build /src/runtime-image/package.json runtime-image/
COPY --from=build /src/runtime-image/dist/ runtime-image/dist/
# A RocksDB binary that does not load on this image's glibc fails the build, not the pod.
RUN node -e "require('@nxtedition/rocksdb')"
LABEL org.opencontainers.image.title="sluice-runtime" \
      org.opencontainers.image.description="The Sluice stream processing runtime: one pod of a StreamJob"
EXPOSE 8080
ENTRYPOINT ["tini", "--", "node", "/app/runtime-image/dist/main.js"]
