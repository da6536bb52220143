package aws_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// TestObserveFaults checks that a failing read is reported for its aspect
// only, and that throttling and concurrent-write conflicts are retried.
func TestObserveFaults(t *testing.T) {
	modernRef := settings.BucketRef{Name: "modern-default", Region: "us-east-1"}
	cases := map[string]struct {
		reason     string
		fault      emulator.Fault
		wantErrors map[settings.Aspect]string
		wantCalls  int // calls of the faulty operation on modern-default
	}{
		"access denied": {
			reason:     "a 403 on the policy is an error for that aspect alone, with the code",
			fault:      emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 403, Code: "AccessDenied", Message: "Access Denied"},
			wantErrors: map[settings.Aspect]string{settings.AspectPolicy: "get bucket policy: AccessDenied: Access Denied"},
			wantCalls:  1,
		},
		"slow down twice": {
			reason:    "503 SlowDown is retried transparently",
			fault:     emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 503, Code: "SlowDown", Message: "Please reduce your request rate.", Times: 2},
			wantCalls: 3,
		},
		"operation aborted": {
			reason:    "409 OperationAborted (a concurrent configuration write) is retried",
			fault:     emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 409, Code: "OperationAborted", Message: "A conflicting conditional operation is currently in progress against this resource. Please try again.", Times: 1},
			wantCalls: 2,
		},
		"slow down past the attempts": {
			reason:    "throttling is retried past MaxAttempts (4 in newProvider): it is AWS answering, not failing",
			fault:     emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 503, Code: "SlowDown", Message: "Please reduce your request rate.", Times: 6},
			wantCalls: 7,
		},
		"internal error on encryption": {
			reason:     "a 500 that outlasts the attempts on another aspect",
			fault:      emulator.Fault{Service: "s3", Operation: "GetBucketEncryption", Bucket: "modern-default", Status: 500, Code: "InternalError", Message: "We encountered an internal error. Please try again."},
			wantErrors: map[settings.Aspect]string{settings.AspectEncryption: "get bucket encryption: InternalError: We encountered an internal error. Please try again."},
			wantCalls:  4,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			srv.InjectFault(tc.fault)
			ctx := context.Background()

			got := p.ObserveBucket(ctx, modernRef, allAspects)
			if diff := cmp.Diff(tc.wantErrors, got.Errors); diff != "" {
				t.Errorf("%s\nErrors -want, +got:\n%s", tc.reason, diff)
			}
			for _, a := range allAspects {
				if _, failed := tc.wantErrors[a]; got.Has(a) == failed {
					t.Errorf("%s\nHas(%s) = %v, want %v", tc.reason, a, got.Has(a), !failed)
				}
			}
			if _, failed := tc.wantErrors[settings.AspectPublicAccessBlock]; !failed && !got.PublicAccessBlock.AllOn() {
				t.Errorf("%s\nother aspects must be unaffected, got BPA %+v", tc.reason, got.PublicAccessBlock)
			}
			if n := countCalls(srv.Calls(), func(c emulator.Call) bool {
				return c.Operation == tc.fault.Operation && c.Bucket == "modern-default"
			}); n != tc.wantCalls {
				t.Errorf("%s\n%d %s calls, want %d", tc.reason, n, tc.fault.Operation, tc.wantCalls)
			}

			other := p.ObserveBucket(ctx, settings.BucketRef{Name: "analytics-old", Region: "us-east-1"}, allAspects)
			if len(other.Errors) != 0 || len(other.Observed) != len(allAspects) {
				t.Errorf("%s\nanother bucket must be unaffected, got errors %v", tc.reason, other.Errors)
			}
		})
	}
}

// TestFindersPassErrorsThrough checks that each finder maps only its own
// "not configured" code to absent and hands every other error back as the
// API error it was.
func TestFindersPassErrorsThrough(t *testing.T) {
	type finder func(ctx context.Context, p *awsprovider.Provider, bucket string) error
	wrapF := func(f func(context.Context, *awsprovider.Provider, string) error) finder { return f }
	finders := map[string]struct {
		op string
		f  finder
	}{
		"public access block": {"GetPublicAccessBlock", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindPublicAccessBlock(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"ownership": {"GetBucketOwnershipControls", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindOwnership(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"encryption": {"GetBucketEncryption", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindEncryption(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"logging": {"GetBucketLogging", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindLogging(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"policy": {"GetBucketPolicy", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindPolicy(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"notifications": {"GetBucketNotificationConfiguration", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindNotifications(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
		"tags": {"GetBucketTagging", wrapF(func(ctx context.Context, p *awsprovider.Provider, b string) error {
			_, err := awsprovider.FindTags(ctx, p.S3Client("us-east-1"), b)
			return err
		})},
	}
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	for name, fd := range finders {
		t.Run(name, func(t *testing.T) {
			// The legacy bucket answers the "not configured" codes.
			if err := fd.f(ctx, p, "legacy-archive"); err != nil {
				t.Errorf("legacy bucket: %v, want absent without error", err)
			}
			srv.InjectFault(emulator.Fault{Service: "s3", Operation: fd.op, Bucket: "legacy-archive", Status: 403, Code: "AccessDenied", Message: "Access Denied", Times: 1})
			err := fd.f(ctx, p, "legacy-archive")
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
				t.Errorf("with a 403: %v, want the AccessDenied API error", err)
			}
			err = fd.f(ctx, p, "no-such-bucket-here")
			if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
				t.Errorf("missing bucket: %v, want NoSuchBucket", err)
			}
		})
	}
}

// TestThrottleBudget: a call throttled without end is retried until the
// throttle budget runs out, then reported with the code and how long it
// tried, and it is not a region that does not answer.
func TestThrottleBudget(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv, func(o *awsprovider.Options) { o.ThrottleBudget = 300 * time.Millisecond })
	srv.InjectFault(emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."})
	begin := time.Now()
	st := p.ObserveBucket(context.Background(), settings.BucketRef{Name: "modern-default", Region: "us-east-1"},
		[]settings.Aspect{settings.AspectPolicy, settings.AspectPublicAccessBlock})
	took := time.Since(begin)
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("took %v, want about the 300ms budget", took)
	}
	msg := st.Errors[settings.AspectPolicy]
	if !regexp.MustCompile(`^get bucket policy: still throttled after \d+ attempts over \d+ms: SlowDown: Please reduce your request rate\.$`).MatchString(msg) {
		t.Errorf("error = %q, want the code and how long it was retried", msg)
	}
	if st.Unanswered || !st.Has(settings.AspectPublicAccessBlock) {
		t.Errorf("unanswered %v, observed %v: a throttled region answers, and its next read is made", st.Unanswered, st.Observed)
	}
	if n := countCalls(srv.Calls(), func(c emulator.Call) bool { return c.Operation == "GetBucketPolicy" }); n <= 4 {
		t.Errorf("%d attempts, want more than MaxAttempts (4)", n)
	}
}

// TestThrottledCallOutlastsCallTimeout: the call timeout is the wait for
// an answer, so a call whose throttled attempts each answer in time may take
// longer in all, and is no timeout (until this change it was, and the
// region was given up).
func TestThrottledCallOutlastsCallTimeout(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{Latency: 60 * time.Millisecond})
	p := newProvider(t, srv, func(o *awsprovider.Options) { o.CallTimeout = 200 * time.Millisecond })
	srv.InjectFault(emulator.Fault{Service: "s3", Operation: "GetBucketPolicy", Bucket: "modern-default", Status: 503, Code: "SlowDown", Message: "Please reduce your request rate.", Times: 6})
	begin := time.Now()
	st := p.ObserveBucket(context.Background(), settings.BucketRef{Name: "modern-default", Region: "us-east-1"},
		[]settings.Aspect{settings.AspectPolicy})
	if took := time.Since(begin); took < 400*time.Millisecond {
		t.Fatalf("took %v: the test needs the call to outlast the 200ms call timeout", took)
	}
	if len(st.Errors) > 0 || st.Unanswered || !st.Has(settings.AspectPolicy) {
		t.Errorf("errors %v, unanswered %v: want the policy read after 7 attempts", st.Errors, st.Unanswered)
	}
}

// TestCallTimeout: an attempt that gets no answer within the call timeout
// ends its call at once, as a timeout the plan treats as a region that does
// not answer.
func TestCallTimeout(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{Latency: 2 * time.Second})
	p := newProvider(t, srv, func(o *awsprovider.Options) {
		o.CallTimeout = 100 * time.Millisecond
		o.MaxAttempts = 2
	})
	begin := time.Now()
	st := p.ObserveBucket(context.Background(), settings.BucketRef{Name: "modern-default", Region: "us-east-1"},
		[]settings.Aspect{settings.AspectPolicy})
	if took := time.Since(begin); took > time.Second {
		t.Errorf("took %v, want about the 100ms call timeout", took)
	}
	msg := st.Errors[settings.AspectPolicy]
	if msg != "get bucket policy: timed out: no answer within 100ms" {
		t.Errorf("error = %q, want one line saying the policy read got no answer in time", msg)
	}
	if !st.Unanswered {
		t.Errorf("a call that got no answer is not marked Unanswered")
	}
}
