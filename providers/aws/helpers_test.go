package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/fixtures/testenv"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// isolateEnv gives the test stub credentials and a region from the
// environment, and hides the machine's AWS files and variables, so nothing
// on the host (a real profile, an endpoint override) can leak into a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	testenv.IsolateAWS(t)
}

// start serves sc on a free local port for the test's lifetime.
func start(t *testing.T, sc *emulator.Scenario, opts emulator.Options) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start("127.0.0.1:0", sc, opts)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// newProvider makes a provider aimed at srv, with a short retry backoff.
func newProvider(t *testing.T, srv *emulator.Server, mod ...func(*awsprovider.Options)) *awsprovider.Provider {
	t.Helper()
	isolateEnv(t)
	o := awsprovider.Options{EndpointURL: srv.URL(), MaxAttempts: 4, CallTimeout: 10 * time.Second, PropagationTimeout: 2 * time.Second}
	awsprovider.SetMaxBackoff(&o, 5*time.Millisecond)
	for _, m := range mod {
		m(&o)
	}
	p, err := awsprovider.New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// parse builds a scenario from JSON written in the test.
func parse(t *testing.T, js string) *emulator.Scenario {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(js))
	if err != nil {
		t.Fatalf("parse scenario: %v", err)
	}
	return sc
}

// countCalls counts the recorded calls that match.
func countCalls(calls []emulator.Call, match func(emulator.Call) bool) int {
	n := 0
	for _, c := range calls {
		if match(c) {
			n++
		}
	}
	return n
}

func op(service, operation string) func(emulator.Call) bool {
	return func(c emulator.Call) bool { return c.Service == service && c.Operation == operation }
}
