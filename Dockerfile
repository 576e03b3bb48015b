# The pushlab image: one static binary and nothing else — no CA, no keys.
# Build it with `make image` (which compiles dist/pushlab with CGO_ENABLED=0);
# no base image is pulled. Every run mounts its own `pushlab keys init` set:
# the mocks read it with --keys, and a proxy under test trusts pushlab's CA
# through a mounted SSL_CERT_FILE, as an unmodified proxy image would.
FROM scratch
COPY pushlab /pushlab
USER 65532:65532
ENTRYPOINT ["/pushlab"]
CMD ["--help"]
