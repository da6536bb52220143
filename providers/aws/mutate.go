package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// Writes. Every mutator follows the same shape, in the style of
// terraform-provider-aws and Crossplane:
//
//   - It writes one whole document. S3 replaces a bucket sub-configuration
//     on every Put and never merges (aws-semantics §1-§6), so the caller
//     hands over the complete document it wants, foreign statements and
//     entries included, and nothing is read-modified-written here.
//   - nil means "absent": the Delete call, or the empty document where S3
//     has no Delete (logging, notifications). Deleting what is already
//     absent is success.
//   - It is idempotent, which is also what makes retries safe: the
//     retryer repeats a write that met 409 OperationAborted (another
//     writer on the same bucket), 503 SlowDown or a 5xx, and writing the
//     same whole document twice leaves the same state.
//   - It reads the document back with the aspect's own finder and fails
//     with "verify ...: wrote X, read Y" unless it sees what it wrote,
//     re-reading for up to the propagation timeout first, because S3
//     bucket configuration is eventually consistent ("Bucket
//     configurations have an eventual consistency model", S3 User Guide)
//     and S3 can store other than what it was sent (a policy's
//     principals). Server access logging alone is not read back: S3
//     documents its changes as visible at once (see PutLogging).
//
// Errors are one line, the doing-part first ("put bucket policy:
// MalformedPolicy: ..."), and unwrap to the SDK's smithy.APIError;
// ErrorCode extracts the code.

const (
	// maxPollInterval caps the pause between two read-backs.
	maxPollInterval = 5 * time.Second
	// defaultPollInterval is the first pause between read-backs.
	defaultPollInterval = 250 * time.Millisecond
)

// firstPollInterval is the first pause between read-backs: short enough
// that a propagation timeout shortened (by tests) still allows a few reads.
func firstPollInterval(timeout time.Duration) time.Duration {
	return min(defaultPollInterval, max(timeout/20, time.Millisecond))
}

// refRegion is the region of ref's calls; "" is the global region, as
// in ObserveBucket.
func (p *Provider) refRegion(ref settings.BucketRef) string {
	if ref.Region == "" {
		return p.region
	}
	return ref.Region
}

// bucketClient is the S3 client of the bucket's own region: a client of
// another region gets a 301 that Go v2 does not follow.
func (p *Provider) bucketClient(ref settings.BucketRef) *s3.Client {
	return p.s3Client(p.refRegion(ref))
}

// run makes one API call under the call timeout and describes a failure as
// a failure of op.
func (p *Provider) run(ctx context.Context, op string, fn func(context.Context) error) error {
	cctx, cancel := p.call(ctx)
	defer cancel()
	return wrap(op, fn(cctx))
}

// settle runs check until it reports no mismatch, fails, or the
// propagation timeout passes, pausing between tries with a growing
// interval. It returns the last mismatch ("" when settled).
func (p *Provider) settle(ctx context.Context, check func(context.Context) (mismatch string, err error)) (string, error) {
	deadline := time.Now().Add(p.propagation)
	pause := p.pollEvery
	for {
		cctx, cancel := p.call(ctx)
		mismatch, err := check(cctx)
		cancel()
		if err != nil || mismatch == "" {
			return mismatch, err
		}
		if time.Now().Add(pause).After(deadline) {
			return mismatch, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return mismatch, ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, maxPollInterval)
	}
}

// verify reads back what was written with read until equal(want, got), and
// reports the difference when it never is.
func verify[T any](ctx context.Context, p *Provider, what string, want T, read func(context.Context) (T, error), equal func(want, got T) bool) error {
	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		got, err := read(ctx)
		if err != nil {
			return "", err
		}
		if equal(want, got) {
			return "", nil
		}
		return fmt.Sprintf("wrote %s, read %s", describe(want), describe(got)), nil
	})
	if err != nil {
		return wrap("verify "+what, err)
	}
	if mismatch != "" {
		return fmt.Errorf("verify %s: %s", what, mismatch)
	}
	return nil
}

// describe renders a setting for a one-line verify error: "absent" for
// nil, a policy as its compacted text, anything else as JSON.
func describe(v any) string {
	switch x := v.(type) {
	case *settings.Policy:
		if x == nil {
			return "absent"
		}
		return compactText(x.Raw)
	case string:
		return compactText(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	if string(b) == "null" {
		return "absent"
	}
	return string(b)
}

// compactText is JSON text without insignificant whitespace, or the text
// with its whitespace folded when it is not JSON.
func compactText(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err == nil {
		return b.String()
	}
	return strings.Join(strings.Fields(s), " ")
}

// equalPtr compares two optional settings by value; nil is absent.
func equalPtr[T comparable](want, got *T) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	return *want == *got
}
