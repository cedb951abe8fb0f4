# defender_exporter — build, test and lint targets. `make test` is what CI runs.

GO           ?= go
GOBIN        ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK  := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
BINARY       := defender_exporter
PKG          := github.com/defender-exporter/defender_exporter
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION     ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH       ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS      := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=$(BRANCH) \
	-X github.com/prometheus/common/version.BuildUser=$(shell whoami)@$(shell hostname) \
	-X github.com/prometheus/common/version.BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: all build test test-short fmt-check vet lint demo bench clean

all: lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

## test: formatting, vet, and every test with the race detector.
test: fmt-check vet
	$(GO) test -race -count=1 ./...

## test-short: the unit tests without the race detector, for a quick loop.
test-short:
	$(GO) test -count=1 ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: fmt-check vet $(STATICCHECK)
	$(STATICCHECK) ./...

## demo: run the exporter against its embedded fake tenants on :9925.
demo:
	$(GO) run . --demo

clean:
	rm -f $(BINARY)

# ---------------------------------------------------------------------------
# Operator assets: alerts.rules.yml, dashboards/, examples/ (added with them).
# `make e2e` installs Debian's prometheus and prometheus-alertmanager when missing.

PROMTOOL ?= promtool

.PHONY: rules e2e

## rules: promtool check and unit tests of the alerting rules.
rules:
	$(PROMTOOL) check rules alerts.rules.yml
	$(PROMTOOL) test rules alerts.rules.test.yml

## e2e: exporter --demo + Prometheus + Alertmanager + webhook on loopback: every dashboard
## query returns data and the demo's alert burst reaches the webhook.
e2e:
	bash scripts/e2e.sh

## fuzz: every fuzz target for FUZZTIME each (default 50000x: a count of executions, which
## cannot hit the Go 1.26 fuzz-deadline race); FUZZ=regexp picks targets.
.PHONY: fuzz
fuzz:
	FUZZTIME=$(or $(FUZZTIME),50000x) GO=$(GO) ./scripts/fuzz.sh

# ---------------------------------------------------------------------------
# Scale: benchmarks and the Kubernetes rules. Not part of `make test`.

.PHONY: prometheusrule

## bench: the scale benchmarks (1M alerts, 100k machines, 200k AV rows, 200 tenants, scrapes,
## decode throughput); writes bench/REPORT.md. About 2 minutes and 1.5 GiB on 2 cores.
bench:
	bash scripts/bench.sh

## prometheusrule: regenerate deploy/kubernetes/prometheusrule.yaml from alerts.rules.yml.
prometheusrule:
	bash scripts/gen-prometheusrule.sh

## dashboards: regenerate dashboards/*.json with dashboards/generator (Grafana's foundation SDK;
## a Go module of its own, so the exporter does not link the SDK).
.PHONY: dashboards
dashboards:
	cd dashboards/generator && $(GO) run . ..

# ---------------------------------------------------------------------------
# Container image and Helm chart (docs/install.md). The image packs `make build`'s static binary onto
# an empty base: building it downloads nothing.

IMAGE             ?= defender-exporter
IMAGE_TAG         ?= $(VERSION)
# podman or docker. scripts/image-check.sh sets podman's vfs storage and chroot isolation, which need
# no daemon and no privileges beyond root's.
CONTAINER_ENGINE  ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
IMAGE_BUILD_FLAGS ?=
IMAGE_CONTEXT     := .build/image
CA_BUNDLE         ?= /etc/ssl/certs/ca-certificates.crt
HELM_VERSION      := v4.3.2
HELM              ?= $(GOBIN)/helm
CHART             := deploy/helm/defender-exporter

.PHONY: image-context image image-check helm-rules helm-test

## image-context: .build/image/, all the Dockerfile packs: the static binary, the CA bundle, /tmp.
image-context: build
	@test -s $(CA_BUNDLE) || { echo "$(CA_BUNDLE) is missing: install Debian's ca-certificates or set CA_BUNDLE"; exit 1; }
	rm -rf $(IMAGE_CONTEXT)
	mkdir -p $(IMAGE_CONTEXT)/skeleton/etc/defender_exporter $(IMAGE_CONTEXT)/skeleton/tmp
	chmod 0755 $(IMAGE_CONTEXT)/skeleton $(IMAGE_CONTEXT)/skeleton/etc $(IMAGE_CONTEXT)/skeleton/etc/defender_exporter
	chmod 1777 $(IMAGE_CONTEXT)/skeleton/tmp
	cp $(BINARY) $(IMAGE_CONTEXT)/defender_exporter
	cp $(CA_BUNDLE) $(IMAGE_CONTEXT)/ca-certificates.crt
	chmod 0755 $(IMAGE_CONTEXT)/defender_exporter
	chmod 0644 $(IMAGE_CONTEXT)/ca-certificates.crt

## image: the container image $(IMAGE):$(IMAGE_TAG) from the Dockerfile (CONTAINER_ENGINE=docker to use Docker).
image: image-context
	$(CONTAINER_ENGINE) build $(IMAGE_BUILD_FLAGS) --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
		-t $(IMAGE):$(IMAGE_TAG) -f Dockerfile .

## image-check: build the image with podman, unpack its filesystem and run its binary there (chroot,
## uid 65534, --demo): /metrics must show defender_up 1. Needs root and podman.
image-check:
	GO=$(GO) bash scripts/image-check.sh

$(HELM):
	$(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

## helm-rules: copy alerts.rules.yml into the chart (a chart cannot read files outside its directory).
helm-rules:
	cp alerts.rules.yml $(CHART)/files/alerts.rules.yml

## helm-test: helm lint and helm template of the chart for each values file of its ci/ directory, and the
## Go test that checks the rendered objects (deploy/helm, build tag helm). Installs helm into GOBIN.
helm-test: $(HELM)
	HELM=$(HELM) GO=$(GO) bash scripts/helm-test.sh
