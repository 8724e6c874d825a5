# Build a static binary. deploy/dockerfile_test.go builds with exactly this
# RUN line and checks the result is static. There is no syntax directive on
# purpose: one makes BuildKit pull a frontend image from Docker Hub at build
# time. buildah and podman drop HEALTHCHECK unless they build with
# --format docker.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/sessionbot ./cmd/sessionbot

# No shell, no package manager, CA certificates included, non-root (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sessionbot /sessionbot
# Numeric, so Kubernetes can verify runAsNonRoot without a runAsUser.
USER 65532:65532
ENV HTTP_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/sessionbot", "healthcheck"]
ENTRYPOINT ["/sessionbot"]
