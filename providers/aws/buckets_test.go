package aws_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// TestListBucketsPaginates lists more buckets than fit on one page.
func TestListBucketsPaginates(t *testing.T) {
	const n = 2500
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	sc := &emulator.Scenario{AccountID: "111122223333", CallerARN: "arn:aws:iam::111122223333:user/ci"}
	var want []settings.BucketRef
	for i := range n {
		b := emulator.Bucket{Name: fmt.Sprintf("bucket-%05d", i), Region: regions[i%len(regions)]}
		sc.Buckets = append(sc.Buckets, b)
		want = append(want, settings.BucketRef{Name: b.Name, Region: b.Region})
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)

	got, err := p.ListBuckets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" { // S3 lists in name order
		t.Errorf("ListBuckets -want, +got:\n%s", diff)
	}
	calls := srv.Calls()
	if pages := countCalls(calls, op("s3", "ListBuckets")); pages != 3 {
		t.Errorf("%d ListBuckets calls, want 3 pages of at most 1000", pages)
	}
	if len(calls) != 3 {
		t.Errorf("%d calls, want only the 3 ListBuckets pages: %+v", len(calls), calls[3:])
	}
}

// stripRegions removes BucketRegion from ListBuckets answers, as S3 may
// leave it out, so the HeadBucket fallback can be exercised over HTTP.
type stripRegions struct{ next http.RoundTripper }

var bucketRegionRe = regexp.MustCompile(`<BucketRegion>[^<]*</BucketRegion>`)

func (s stripRegions) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || r.URL.Path != "/" {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bucketRegionRe.ReplaceAll(body, nil)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return resp, nil
}

// TestListBucketsRegionFallback learns a missing region from HeadBucket's
// x-amz-bucket-region header, which comes back on the 301 a us-east-1
// client gets for an eu-west-1 bucket; GetBucketLocation is never used.
func TestListBucketsRegionFallback(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv, func(o *awsprovider.Options) {
		o.HTTPClient = &http.Client{Transport: stripRegions{next: http.DefaultTransport}}
	})
	got, err := p.ListBuckets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]string{}
	for _, r := range got {
		regions[r.Name] = r.Region
	}
	for name, want := range map[string]string{"compliant-high": "eu-west-1", "legacy-archive": "us-east-1", "shared-data": "eu-west-1"} {
		if regions[name] != want {
			t.Errorf("region of %s = %q, want %q", name, regions[name], want)
		}
	}
	calls := srv.Calls()
	if n := countCalls(calls, op("s3", "GetBucketLocation")); n != 0 {
		t.Errorf("%d GetBucketLocation calls, want none", n)
	}
	if n := countCalls(calls, op("s3", "HeadBucket")); n != len(got) {
		t.Errorf("%d HeadBucket calls, want one per bucket (%d)", n, len(got))
	}
}

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
