# The exporter's image: the static binary `make build` wrote (version, revision and branch stamped)
# on an empty base, with the CA bundle and an empty /tmp, running as nobody. Nothing is downloaded
# or compiled here, so the image is built from what is local, as the Prometheus projects' are:
#
#   make image                      # make image-context, then podman/docker build
#
# A plain `docker build .` needs `make image-context` first: it writes .build/image/, which is all
# the build context holds (.dockerignore).
FROM scratch

ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="defender_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Microsoft Defender for Endpoint and Defender XDR" \
      org.opencontainers.image.source="https://github.com/defender-exporter/defender_exporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# /etc/defender_exporter (where the configuration is mounted) and /tmp (mode 1777: --demo writes its
# generated CA and configuration there).
COPY .build/image/skeleton/ /
# TLS roots for login.microsoftonline.com and the Defender and Graph APIs: Debian's bundle.
COPY .build/image/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY .build/image/defender_exporter /bin/defender_exporter

USER 65534:65534
EXPOSE 9925
ENTRYPOINT ["/bin/defender_exporter"]
CMD ["--config.file=/etc/defender_exporter/defender.yml"]
