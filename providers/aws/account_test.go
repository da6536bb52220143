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

// TestAccountPublicAccessBlockWrite writes the account's Block Public
// Access through S3 Control and reads it back: full replace with every flag
// sent, nil deletes, deleting what is absent is success.
func TestAccountPublicAccessBlockWrite(t *testing.T) {
	all := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	two := &settings.PublicAccessBlock{IgnorePublicAcls: true, BlockPublicPolicy: true}
	none := &settings.PublicAccessBlock{}
	cases := map[string]struct {
		reason string
		writes []*settings.PublicAccessBlock
		want   *settings.PublicAccessBlock
	}{
		"set all": {"the scenario's three flags become four", []*settings.PublicAccessBlock{all}, all},
		"replace not merge": {"two flags after four leave exactly two: false flags are sent",
			[]*settings.PublicAccessBlock{all, two}, two},
		"all false": {"all four false is written as such, not an empty body", []*settings.PublicAccessBlock{none}, none},
		"delete":    {"nil deletes the configuration", []*settings.PublicAccessBlock{nil}, nil},
		"delete absent": {"deleting what is already absent is success",
			[]*settings.PublicAccessBlock{nil, nil}, nil},
		"delete then set": {"a deleted configuration can be set again", []*settings.PublicAccessBlock{nil, two}, two},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
			p := newProvider(t, srv)
			ctx := context.Background()
			for i, w := range tc.writes {
				if err := p.PutAccountPublicAccessBlock(ctx, w); err != nil {
					t.Fatalf("%s\nwrite %d: %v", tc.reason, i, err)
				}
			}
			got, err := p.AccountPublicAccessBlock(ctx)
			if err != nil {
				t.Fatalf("%s\nAccountPublicAccessBlock: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			// What the account's own Account() sees agrees.
			st, err := p.Account(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, st.PublicAccessBlock); diff != "" {
				t.Errorf("%s\nAccount().PublicAccessBlock -want, +got:\n%s", tc.reason, diff)
			}
			for _, c := range srv.Calls() {
				if c.Service == "s3control" && c.Account != "111122223333" {
					t.Errorf("%s\nS3 Control %s for account %q, want 111122223333", tc.reason, c.Operation, c.Account)
				}
			}
			if n := countCalls(srv.Calls(), op("sts", "GetCallerIdentity")); n != 2 {
				t.Errorf("%s\n%d GetCallerIdentity calls, want 2 (one for the cached account id, one for Account)", tc.reason, n)
			}
		})
	}
}

// TestAccountPublicAccessBlockRead reads the scenario's flags, and nil for
// an account that never set them.
func TestAccountPublicAccessBlockRead(t *testing.T) {
	p := newProvider(t, start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{}))
	got, err := p.AccountPublicAccessBlock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}

	p = newProvider(t, start(t, e2eScenario(t), emulator.Options{}))
	got, err = p.AccountPublicAccessBlock(context.Background())
	if err != nil || got != nil {
		t.Errorf("never configured: %+v, %v; want nil, nil", got, err)
	}
}

// TestAccountPublicAccessBlockWriteRefused reports a refused write in one
// line, the doing-part first.
func TestAccountPublicAccessBlockWriteRefused(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "s3control", Operation: "PutPublicAccessBlock", Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	err := p.PutAccountPublicAccessBlock(context.Background(), &settings.PublicAccessBlock{BlockPublicAcls: true})
	want := "put account public access block: AccessDenied: Access Denied"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
