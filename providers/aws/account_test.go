package aws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// TestAccountS3ControlEndpoint proves S3 Control requests reach a custom
// endpoint: the SDK would address 111122223333.127.0.0.1:port, which cannot
// resolve, unless the account label is stripped. Both ways of naming the
// endpoint are covered: the option and the SDK's own variable.
func TestAccountS3ControlEndpoint(t *testing.T) {
	want := settings.AccountState{
		AccountID: "111122223333",
		Caller:    "arn:aws:sts::111122223333:assumed-role/Ops/alice",
		PublicAccessBlock: &settings.PublicAccessBlock{
			BlockPublicAcls: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
		},
	}
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, url string, o *awsprovider.Options)
	}{
		"option": {
			reason: "--endpoint-url sets one endpoint for every client",
			setup:  func(t *testing.T, url string, o *awsprovider.Options) {},
		},
		"AWS_ENDPOINT_URL": {
			reason: "the SDK's own variable keeps working when the option is empty",
			setup: func(t *testing.T, url string, o *awsprovider.Options) {
				o.EndpointURL = ""
				t.Setenv("AWS_ENDPOINT_URL", url)
			},
		},
		"AWS_ENDPOINT_URL_S3_CONTROL": {
			reason: "a service-specific variable is an endpoint too",
			setup: func(t *testing.T, url string, o *awsprovider.Options) {
				o.EndpointURL = ""
				t.Setenv("AWS_ENDPOINT_URL_STS", url)
				t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", url)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
			isolateEnv(t)
			o := awsprovider.Options{EndpointURL: srv.URL(), MaxAttempts: 2}
			tc.setup(t, srv.URL(), &o)
			p, err := awsprovider.New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Account(context.Background())
			if err != nil {
				t.Fatalf("%s\nAccount: %v", tc.reason, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nAccount -want, +got:\n%s", tc.reason, diff)
			}
			n := countCalls(srv.Calls(), func(c emulator.Call) bool {
				return c.Service == "s3control" && c.Operation == "GetPublicAccessBlock" && c.Account == "111122223333"
			})
			if n != 1 {
				t.Errorf("%d S3 Control GetPublicAccessBlock calls for the account, want 1", n)
			}
		})
	}
}

// TestAccountPublicAccessBlockError keeps the account usable when only its
// BPA flags cannot be read.
func TestAccountPublicAccessBlockError(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "s3control", Operation: "GetPublicAccessBlock", Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	got, err := p.Account(context.Background())
	if err != nil {
		t.Fatalf("Account: %v, want the state with PublicAccessBlockError", err)
	}
	want := settings.AccountState{
		AccountID:              "111122223333",
		Caller:                 "arn:aws:sts::111122223333:assumed-role/Ops/alice",
		PublicAccessBlockError: "get account public access block: AccessDenied: Access Denied",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Account -want, +got:\n%s", diff)
	}
}

// TestAccountIdentityError is fatal: without the account nothing can be
// planned.
func TestAccountIdentityError(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "sts", Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"})
	_, err := p.Account(context.Background())
	if err == nil {
		t.Fatal("Account succeeded, want an error")
	}
	want := "get caller identity: ExpiredToken: The security token included in the request is expired"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans lines", err)
	}
}
