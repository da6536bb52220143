package aws_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

func TestDescribeKey(t *testing.T) {
	const (
		id  = "5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
		arn = "arn:aws:kms:us-east-1:123456789012:key/" + id
	)
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	cases := map[string]struct {
		reason string
		region string
		ref    string
		want   settings.KeyInfo
	}{
		"alias": {"an alias resolves to the key's ARN", "us-east-1", "alias/s3baseline",
			settings.KeyInfo{Ref: "alias/s3baseline", Exists: true, ARN: arn, KeyID: id, Enabled: true, Symmetric: true, Manager: "CUSTOMER"}},
		"alias ARN": {"an alias ARN too", "us-east-1", "arn:aws:kms:us-east-1:123456789012:alias/s3baseline",
			settings.KeyInfo{Ref: "arn:aws:kms:us-east-1:123456789012:alias/s3baseline", Exists: true, ARN: arn, KeyID: id, Enabled: true, Symmetric: true, Manager: "CUSTOMER"}},
		"key id": {"a bare key id", "us-east-1", id,
			settings.KeyInfo{Ref: id, Exists: true, ARN: arn, KeyID: id, Enabled: true, Symmetric: true, Manager: "CUSTOMER"}},
		"key ARN": {"the ARN itself", "us-east-1", arn,
			settings.KeyInfo{Ref: arn, Exists: true, ARN: arn, KeyID: id, Enabled: true, Symmetric: true, Manager: "CUSTOMER"}},
		"other region": {"the same alias in eu-west-1 is another key", "eu-west-1", "alias/s3baseline",
			settings.KeyInfo{Ref: "alias/s3baseline", Exists: true, ARN: "arn:aws:kms:eu-west-1:123456789012:key/0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a",
				KeyID: "0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a", Enabled: true, Symmetric: true, Manager: "CUSTOMER"}},
		"unknown": {"a key KMS does not know is not an error", "us-east-1", "alias/nope",
			settings.KeyInfo{Ref: "alias/nope"}},
		"wrong region ARN": {"a key ARN of another region does not exist here", "eu-west-1", arn,
			settings.KeyInfo{Ref: arn}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := p.DescribeKey(ctx, tc.region, tc.ref)
			if err != nil {
				t.Fatalf("%s\nDescribeKey: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nDescribeKey(%s, %s) -want, +got:\n%s", tc.reason, tc.region, tc.ref, diff)
			}
			for _, c := range srv.Calls() {
				if c.Service == "kms" && c.Region != tc.region {
					t.Errorf("%s\nKMS call signed for %s, want %s", tc.reason, c.Region, tc.region)
				}
			}
			srv.ResetCalls()
		})
	}
}

// TestDescribeKeyShared makes many concurrent lookups of one key while the
// first call is still in flight: they share it, and later lookups hit the
// cache.
func TestDescribeKeyShared(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{Latency: 100 * time.Millisecond})
	p := newProvider(t, srv)
	ctx := context.Background()

	const n = 50
	var wg sync.WaitGroup
	results := make([]settings.KeyInfo, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = p.DescribeKey(ctx, "eu-west-1", "alias/s3baseline") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] || !results[0].Exists {
			t.Fatalf("caller %d: %+v, %v; want the same existing key as caller 0 (%+v)", i, results[i], errs[i], results[0])
		}
	}
	if _, err := p.DescribeKey(ctx, "eu-west-1", "alias/s3baseline"); err != nil {
		t.Fatal(err)
	}
	if got := countCalls(srv.Calls(), op("kms", "DescribeKey")); got != 1 {
		t.Errorf("%d DescribeKey calls for %d lookups of one key, want 1", got, n+1)
	}
}

// TestDescribeKeyErrorNotCached retries a key whose lookup failed.
func TestDescribeKeyErrorNotCached(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	srv.InjectFault(emulator.Fault{Service: "kms", Operation: "DescribeKey", Status: 400, Code: "AccessDeniedException", Message: "not authorized", Times: 1})

	_, err := p.DescribeKey(ctx, "us-east-1", "alias/s3baseline")
	want := "describe key alias/s3baseline in us-east-1: AccessDeniedException: not authorized"
	if err == nil || err.Error() != want {
		t.Fatalf("first lookup: %v, want %q", err, want)
	}
	got, err := p.DescribeKey(ctx, "us-east-1", "alias/s3baseline")
	if err != nil || !got.Exists {
		t.Errorf("second lookup: %+v, %v; want the key", got, err)
	}
}
