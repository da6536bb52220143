# s3baseline — every target works on a fresh machine with only Go (and make).
GO      ?= go
BIN     := bin/s3baseline
EMU     := bin/s3emu
PKGS    := ./...
# Counts, not durations: a -fuzztime duration races Go's fuzz coordinator
# at the deadline and fails with "context deadline exceeded" and no input
# (golang/go#75804, fixed in Go 1.27; this module builds with older Go).
FUZZTIME ?= 20000x
FUZZFLAGS = -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x

# Every fuzz target, one per run (-fuzz takes one target per package).
define FUZZ_ALL
$(GO) test -run='^$$' -fuzz='^FuzzMergePolicy$$' $(FUZZFLAGS) ./settings/
	$(GO) test -run='^$$' -fuzz='^FuzzMergeNotifications$$' $(FUZZFLAGS) ./settings/
	$(GO) test -run='^$$' -fuzz='^FuzzParsePolicy$$' $(FUZZFLAGS) ./settings/
	$(GO) test -run='^$$' -fuzz='^FuzzLoadConfig$$' $(FUZZFLAGS) ./baselines/
	$(GO) test -run='^$$' -fuzz='^FuzzReadPlan$$' $(FUZZFLAGS) ./plan/
endef

.PHONY: all build test fuzz lint demo bench clean

all: build

build:
	$(GO) build -o $(BIN) .
	$(GO) build -o $(EMU) ./fixtures/cmd/s3emu

# The README's test command, and exactly what CI runs (.ci/run).
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)
	@# A short run of every fuzz test beyond its seeds (-fuzz takes one
	@# target per package per run). Minimisation is capped so that a new
	@# finding does not stall the run; a failing input is saved under the
	@# package's testdata/fuzz/ for go test to replay.
	$(FUZZ_ALL)

# Longer runs: the model-based safety test over SAFETY_STATES generated
# bucket states (make test runs 204), then every fuzz target for FUZZTIME.
SAFETY_STATES ?= 4000
SAFETY_SEED   ?= 0
fuzz: FUZZTIME = 1000000x
fuzz:
	$(GO) test -count=1 -timeout=2h -run='^TestSafetyModel$$' . -safety.states=$(SAFETY_STATES) -safety.seed=$(SAFETY_SEED) -v
	$(FUZZ_ALL)

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# Plan against the local emulator seeded with the demo scenario: no AWS
# account, no credentials of yours, nothing leaves this machine.
demo: build
	@bash fixtures/demo/demo.sh $(BIN) $(EMU)

# Scale: Go benchmarks (CPU and allocations per plan, no injected latency),
# then the driver: plans of 100, 1,000 and 10,000 generated buckets at
# concurrency 64 to 512 and auto behind 40 ms of latency per request, auto
# under 5% injected SlowDown, an apply of 10% drift (its calls counted apart
# from the plan's), the s3baseline binary planning 100,000 buckets with
# --out and --json (peak RSS), and an organization of 500 accounts x 20
# buckets; it writes bench/results.md (about 17 minutes on 2 cores).
# BENCH_HUGE=1 adds the binary's 1,000,000-bucket plans (not in CI);
# BENCH_QUICK=1 runs small sizes only and writes nothing.
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./bench/
	$(GO) test -run='^$$' -bench=BenchmarkEventBPADeletion -benchtime=3x .
	$(GO) run ./bench $(if $(BENCH_QUICK),-quick,-out bench/results.md)

clean:
	rm -rf bin
