# syntax=docker/dockerfile:1.7
#
# One image for every process of the platform:
#   /booking         api (default) | worker | migrate | seed | keygen
#   /twilio-sandbox  local Twilio-compatible SMS API for development
#   /healthcheck     tiny HTTP prober for compose healthchecks (the image has no shell or curl)
#
#   docker build -t clinicbook/booking:dev .
#   docker run --rm clinicbook/booking:dev keygen

ARG GO_VERSION=1.26.8
ARG NODE_VERSION=20

# The web app (web/), built once on the build machine's platform; the Go binary embeds dist/.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY api/openapi.yaml /src/api/openapi.yaml
COPY web/ ./
RUN npm run build

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local

# Dependencies first, so source edits do not invalidate the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/ \
        ./cmd/booking ./cmd/twilio-sandbox ./deploy/healthcheck

# distroless/static: CA certificates and tzdata, no shell; the nonroot tag runs as 65532:65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/booking /out/twilio-sandbox /out/healthcheck /
USER 65532:65532
EXPOSE 8080 8081 8090
ENTRYPOINT ["/booking"]
CMD ["api"]
