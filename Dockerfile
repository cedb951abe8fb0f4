# Multi-stage build: a static binary on an empty base, running as nobody.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
      -o /out/defender_exporter . \
 && mkdir -p /out/etc/defender_exporter /out/tmp && chmod 1777 /out/tmp

FROM scratch
# TLS roots for login.microsoftonline.com and the Defender APIs.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/defender_exporter /bin/defender_exporter
COPY --from=build --chown=65534:65534 /out/etc/defender_exporter /etc/defender_exporter
# --demo writes its generated CA and config to a temporary directory.
COPY --from=build /out/tmp /tmp
USER 65534:65534
EXPOSE 9925
ENTRYPOINT ["/bin/defender_exporter"]
CMD ["--config.file=/etc/defender_exporter/defender.yml"]
