# poolpilot as a container image: a static binary on an empty base.
#
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) -t poolpilot:v0.1.0 .
#
# Not built in CI (the CI machine cannot pull images); tests/release's
# TestDockerfile reads it instead. deploy/kubernetes/ runs it as a Job.

FROM golang:1.26-bookworm AS build
ARG VERSION=(devel)
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/poolpilot ./cmd/poolpilot \
 && mkdir -p /out/evidence /out/tmp

# scratch: no shell, no package manager, nothing but poolpilot and the CA
# certificates it needs to reach Prometheus, webhooks and the Kubernetes API
# over TLS. The binary is static (CGO_ENABLED=0) and runs as 65532, the
# "nonroot" user of distroless images.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/poolpilot /usr/local/bin/poolpilot
COPY --from=build --chown=65532:65532 /out/evidence /evidence
COPY --from=build --chown=65532:65532 /out/tmp /tmp
USER 65532:65532
WORKDIR /evidence
ENV TMPDIR=/tmp
ENTRYPOINT ["/usr/local/bin/poolpilot"]
CMD ["--help"]
