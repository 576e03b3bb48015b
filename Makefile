# pushlab — see README.md. Every target works on a fresh machine with Go and Docker.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
IMAGE     ?= pushlab:dev
BIN       := bin/pushlab

# testcontainers-go against this Docker engine: no reaper image can be pulled,
# and the engine's containers are reached on loopback, never the default gateway.
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1

.PHONY: build test demo lint keys image bench bench-full fuzz delivery-table clean web-screenshot e2e

build: ## the pushlab binary, static
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/pushlab

test: lint ## everything CI runs: vet, gofmt, race tests (in-process, containers, browser as they land)
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -run 'Allocates' ./internal/workers # allocation counts, meaningless under -race
	cd examples && GOFLAGS=-mod=mod $(GO) test -race -count=1 -timeout 10m ./...

demo: build ## start everything in one process and open the live web view (DEMO_FLAGS=--no-web: text timeline)
	./$(BIN) demo $(DEMO_FLAGS)

e2e: build ## the scenario library in both topologies, as CI runs it (E2E_FLAGS=… passes flags)
	./$(BIN) e2e --topology inprocess,containers $(E2E_FLAGS)

lint: ## gofmt + go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@# examples/ is a module of its own; -mod=mod lets a requirement the root
	@# gained since its go.mod was tidied in, rather than fail (tidy it anyway).
	cd examples && GOFLAGS=-mod=mod $(GO) vet ./...

keys: build ## test credentials in keys/ (kept if present; see README)
	./$(BIN) keys init --dir keys

image: ## the FROM scratch image $(IMAGE): the static binary only (keys and CA are mounted per run)
	rm -rf dist && mkdir -p dist
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/pushlab ./cmd/pushlab
	docker build -t $(IMAGE) -f Dockerfile dist

BENCH_COUNT ?= 6
bench: ## Go benchmarks of every package, benchstat-ready (BENCH_COUNT runs each)
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCH_COUNT) ./... | grep -E '^(goos|goarch|pkg|cpu|Benchmark)'

bench-full: build ## the 60-s full-pipeline run with baselines; the HTML report in bin/bench.html
	./$(BIN) bench --duration 60s --concurrency 64 --devices 200 --baselines --fail-on-loss --html bin/bench.html $(BENCH_FLAGS)

delivery-table: ## issue #22's table: each ResendPolicy under each transient fault, 2,000 sends each
	PUSHLAB_DELIVERY_SENDS=$${PUSHLAB_DELIVERY_SENDS:-2000} $(GO) test -count=1 -timeout 30m -run '^TestDeliveryTable$$' -v ./e2e/ | grep -v '^=== RUN'

fuzz: ## each fuzz target for 20s
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list='^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=20s $$pkg; \
	  done; \
	done

web-screenshot: ## docs/web-view.png, from the browser test's own run (needs chromium)
	PUSHLAB_WEB_SCREENSHOT=$(CURDIR)/docs/web-view.png $(GO) test -count=1 -run '^TestBrowser$$' ./web/

clean:
	rm -rf bin dist
