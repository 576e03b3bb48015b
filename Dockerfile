# The pushlab image: one static binary, pushlab's test CA, nothing else.
# Build it with `make image` (which compiles dist/pushlab with CGO_ENABLED=0 and
# generates dist/ca.pem); no base image is pulled.
FROM scratch
COPY pushlab /pushlab
COPY ca.pem /etc/pushlab/ca.pem
# Clients inside the image trust pushlab's CA (the mocks' certificates) the
# transparent way, as an unmodified proxy would with SSL_CERT_FILE.
ENV SSL_CERT_FILE=/etc/pushlab/ca.pem
USER 65532:65532
ENTRYPOINT ["/pushlab"]
CMD ["--help"]
