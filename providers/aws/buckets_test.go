package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// TestUnreachableEndpoint fails fast, in one line that says what was being
// done, when nothing listens at the endpoint.
func TestUnreachableEndpoint(t *testing.T) {
	isolateEnv(t)
	o := awsprovider.Options{EndpointURL: "http://127.0.0.1:1", MaxAttempts: 2, CallTimeout: 2 * time.Second}
	awsprovider.SetMaxBackoff(&o, 5*time.Millisecond)
	p, err := awsprovider.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		call   func() error
		prefix string
	}{
		"Account": {func() error { _, err := p.Account(context.Background()); return err }, "get caller identity: "},
		"ListBuckets": {func() error {
			_, err := p.ListBuckets(context.Background())
			return err
		}, "list buckets: "},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			begin := time.Now()
			err := tc.call()
			if took := time.Since(begin); took > 3*time.Second {
				t.Errorf("took %v, want a quick failure", took)
			}
			if err == nil {
				t.Fatal("no error")
			}
			want := tc.prefix + "dial tcp 127.0.0.1:1: connect: connection refused (2 attempts)"
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

// TestNoCredentials says that credentials are the problem, not the dial
// error of the metadata service the chain tried last.
func TestNoCredentials(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv, func(*awsprovider.Options) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	})
	_, err := p.Account(context.Background())
	if err == nil {
		t.Fatal("Account succeeded without credentials")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "get caller identity: ") || !strings.Contains(msg, "credentials") || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line about credentials", msg)
	}
	if len(srv.Calls()) != 0 {
		t.Errorf("calls reached the endpoint without credentials: %+v", srv.Calls())
	}
}
