# s3baseline — every target works on a fresh machine with only Go (and make).
GO      ?= go
BIN     := bin/s3baseline
EMU     := bin/s3emu
PKGS    := ./...

.PHONY: all build test lint demo bench clean

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

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# Plan against the local emulator seeded with the demo scenario: no AWS
# account, no credentials of yours, nothing leaves this machine.
demo: build
	@bash fixtures/demo/demo.sh $(BIN) $(EMU)

clean:
	rm -rf bin
