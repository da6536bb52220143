package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

const account = "123456789012"

var (
	usEast = func(name string) settings.BucketRef { return settings.BucketRef{Name: name, Region: "us-east-1"} }
	euWest = func(name string) settings.BucketRef { return settings.BucketRef{Name: name, Region: "eu-west-1"} }
)

// putCase is one table row for a mutator: the writes made in order (each
// twice, to prove it idempotent) and what the aspect's finder then reads.
type putCase[T any] struct {
	reason string
	ref    settings.BucketRef
	writes []*T
	want   *T
}

// runPutCases runs the rows against a fresh e2e emulator each.
func runPutCases[T any](t *testing.T, cases map[string]putCase[T],
	put func(*awsprovider.Provider, context.Context, settings.BucketRef, *T) error,
	find func(*awsprovider.Provider, context.Context, settings.BucketRef) (*T, error),
	opts ...cmp.Option,
) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			ctx := context.Background()
			for i, w := range tc.writes {
				for try := 1; try <= 2; try++ {
					if err := put(p, ctx, tc.ref, w); err != nil {
						t.Fatalf("%s\nwrite %d (try %d): %v", tc.reason, i+1, try, err)
					}
				}
			}
			got, err := find(p, ctx, tc.ref)
			if err != nil {
				t.Fatalf("%s\nread back: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, opts...); diff != "" {
				t.Errorf("%s\nread back -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// wantAPIError checks err is one line, starts with the doing-part, and
// carries the AWS code for callers.
func wantAPIError(t *testing.T, err error, prefix, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := awsprovider.ErrorCode(err); got != code {
		t.Errorf("ErrorCode = %q, want %q (error: %v)", got, code, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix+": "+code) {
		t.Errorf("error = %q, want it to begin %q", msg, prefix+": "+code)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line", msg)
	}
}

// exchange is one request seen by a recorder, with its body.
type exchange struct {
	method string
	query  string
	header http.Header
	body   string
}

// recorder is a RoundTripper that keeps every request, and can rewrite
// the first `times` response bodies of requests matching `rewriteQuery`
// (times < 0: all of them), to play a lagging or misbehaving S3.
type recorder struct {
	next http.RoundTripper

	mu      sync.Mutex
	seen    []exchange
	rewrite func(query string, body []byte) ([]byte, bool)
	times   int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.seen = append(r.seen, exchange{method: req.Method, query: req.URL.RawQuery, header: req.Header.Clone(), body: string(body)})
	rewrite := r.rewrite
	if r.times == 0 {
		rewrite = nil
	}
	r.mu.Unlock()

	resp, err := r.next.RoundTrip(req)
	if err != nil || rewrite == nil || req.Method != http.MethodGet {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if out, ok := rewrite(req.URL.RawQuery, data); ok {
		data = out
		r.mu.Lock()
		if r.times > 0 {
			r.times--
		}
		r.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Set("Content-Length", fmt.Sprint(len(data)))
	return resp, nil
}

// requests returns the recorded requests whose query has the key.
func (r *recorder) requests(method, queryKey string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, e := range r.seen {
		if e.method == method && strings.Contains("&"+e.query+"&", "&"+queryKey) {
			out = append(out, e)
		}
	}
	return out
}

// withRecorder routes the provider's HTTP through rec.
func withRecorder(rec *recorder) func(*awsprovider.Options) {
	rec.next = http.DefaultTransport
	return func(o *awsprovider.Options) { o.HTTPClient = &http.Client{Transport: rec} }
}

// policyJSON renders a policy document as indented JSON, as an operator
// would write it: S3 normalises whitespace, so the read-back must compare
// parsed documents.
func policyJSON(t *testing.T, statements ...map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": statements}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func tlsStatement(bucket string) map[string]any {
	return map[string]any{
		"Sid": settings.SidDenyInsecureTransport, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}

// logGrant is the statement that lets the logging service deliver to
// TARGET/s3/ for any source bucket of the account.
func logGrant(target string) map[string]any {
	return map[string]any{
		"Sid": settings.SidServerAccessLogs, "Effect": "Allow",
		"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"},
		"Action":    "s3:PutObject",
		"Resource":  "arn:aws:s3:::" + target + "/s3/*",
		"Condition": map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:s3:::*"},
			"StringEquals": map[string]any{"aws:SourceAccount": account},
		},
	}
}

// publishGrant is the statement that lets S3 publish this account's bucket
// events to the topic.
func publishGrant(topicARN string) map[string]any {
	return map[string]any{
		"Sid": settings.SidAllowS3Publish, "Effect": "Allow",
		"Principal": map[string]any{"Service": "s3.amazonaws.com"},
		"Action":    "SNS:Publish",
		"Resource":  topicARN,
		"Condition": map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:s3:::*"},
			"StringEquals": map[string]any{"aws:SourceAccount": account},
		},
	}
}
