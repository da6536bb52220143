package aws_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// isolateEnv gives the test stub credentials and a region from the
// environment, and hides the machine's AWS files and variables, so nothing
// on the host (a real profile, an endpoint override) can leak into a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "") // registers the restore
			os.Unsetenv(name)
		}
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
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
