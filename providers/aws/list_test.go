package aws_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// listScenario holds n buckets spread over three regions, and the refs
// ListBuckets should return for them, in S3's name order.
func listScenario(t *testing.T, n int) (*emulator.Scenario, []settings.BucketRef) {
	t.Helper()
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	sc := &emulator.Scenario{AccountID: "111122223333", CallerARN: "arn:aws:iam::111122223333:user/ci"}
	var want []settings.BucketRef
	for i := range n {
		b := emulator.Bucket{Name: fmt.Sprintf("bucket-%03d", i), Region: regions[i%len(regions)]}
		sc.Buckets = append(sc.Buckets, b)
		want = append(want, settings.BucketRef{Name: b.Name, Region: b.Region})
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc, want
}

// TestListBucketsPages follows the continuation tokens through every page
// and takes each bucket's region from the listing: a paginated request
// gets BucketRegion, so no HeadBucket is needed.
func TestListBucketsPages(t *testing.T) {
	const n = 25
	cases := map[string]struct {
		pageSize  int32 // 0: the production page of 10,000
		wantPages int
	}{
		"pages of ten":      {10, 3},
		"pages of one":      {1, n},
		"one exact page":    {n, 1},
		"production page":   {0, 1},
		"page above counts": {n + 1, 1},
	}
	for reason, c := range cases {
		t.Run(reason, func(t *testing.T) {
			sc, want := listScenario(t, n)
			srv := start(t, sc, emulator.Options{})
			p := newProvider(t, srv, func(o *awsprovider.Options) {
				if c.pageSize > 0 {
					awsprovider.SetListPageSize(o, c.pageSize)
				}
			})
			got, err := p.ListBuckets(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListBuckets -want, +got:\n%s", diff)
			}
			calls := srv.Calls()
			if pages := countCalls(calls, op("s3", "ListBuckets")); pages != c.wantPages {
				t.Errorf("%d ListBuckets calls, want %d", pages, c.wantPages)
			}
			if len(calls) != c.wantPages {
				t.Errorf("%d calls, want only the %d ListBuckets pages", len(calls), c.wantPages)
			}
		})
	}
}

// TestListBucketsRegionFallback learns a missing region from HeadBucket's
// x-amz-bucket-region header, which comes back on the 301 a us-east-1
// client gets for an eu-west-1 bucket; GetBucketLocation is never used.
// AWS always sends BucketRegion on a paginated listing, so this is the
// path of an S3-compatible service that does not.
func TestListBucketsRegionFallback(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{OmitBucketRegion: true})
	p := newProvider(t, srv)
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

// TestListBucketsParallelRegions runs the HeadBucket fallback in parallel,
// never above the provider's concurrency, and keeps the listing's order.
// Concurrency is checked by how many HeadBucket the emulator served at
// once, not by timing (speed is for benchmarks); the latency only makes
// parallel requests overlap.
func TestListBucketsParallelRegions(t *testing.T) {
	cases := map[string]struct {
		buckets, concurrency int
		wantMin, wantMax     int // HeadBucket in flight at most
	}{
		"twenty buckets, ten at once": {20, 10, 2, 10},
		"one at once stays serial":    {5, 1, 1, 1},
		"fewer buckets than workers":  {3, 10, 2, 3},
	}
	for reason, c := range cases {
		t.Run(reason, func(t *testing.T) {
			sc, want := listScenario(t, c.buckets)
			srv := start(t, sc, emulator.Options{Latency: 50 * time.Millisecond, OmitBucketRegion: true})
			p := newProvider(t, srv, func(o *awsprovider.Options) {
				o.Concurrency = c.concurrency
				awsprovider.SetListPageSize(o, 7) // regions are found across pages
			})
			got, err := p.ListBuckets(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListBuckets -want, +got:\n%s", diff)
			}
			if n := countCalls(srv.Calls(), op("s3", "HeadBucket")); n != c.buckets {
				t.Errorf("%d HeadBucket calls, want one per bucket (%d)", n, c.buckets)
			}
			if n := srv.MaxInFlight("s3", "HeadBucket"); n < c.wantMin || n > c.wantMax {
				t.Errorf("%d HeadBucket in flight at most, want %d..%d", n, c.wantMin, c.wantMax)
			}
		})
	}
}

// TestListBucketsRegionErrors keeps the per-bucket outcomes of the
// fallback: a bucket deleted since it was listed (404) is left out, and
// any other failure fails the listing naming the bucket.
func TestListBucketsRegionErrors(t *testing.T) {
	cases := map[string]struct {
		fault       emulator.Fault
		wantErr     string // "" for success
		wantMissing string // left out of the listing
	}{
		"deleted since listed": {
			fault:       emulator.Fault{Service: "s3", Operation: "HeadBucket", Bucket: "bucket-004", Status: http.StatusNotFound, Code: "NotFound"},
			wantMissing: "bucket-004",
		},
		"refused without a region": {
			fault:   emulator.Fault{Service: "s3", Operation: "HeadBucket", Bucket: "bucket-006", Status: http.StatusForbidden, Code: "AccessDenied"},
			wantErr: `list buckets: find region of bucket "bucket-006": head bucket: `,
		},
	}
	for reason, c := range cases {
		t.Run(reason, func(t *testing.T) {
			sc, want := listScenario(t, 10)
			srv := start(t, sc, emulator.Options{OmitBucketRegion: true})
			srv.InjectFault(c.fault)
			p := newProvider(t, srv, func(o *awsprovider.Options) { o.Concurrency = 4 })
			got, err := p.ListBuckets(context.Background())
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("ListBuckets = %v, %v; want an error starting %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var wantRefs []settings.BucketRef
			for _, r := range want {
				if r.Name != c.wantMissing {
					wantRefs = append(wantRefs, r)
				}
			}
			if diff := cmp.Diff(wantRefs, got); diff != "" {
				t.Errorf("ListBuckets -want, +got:\n%s", diff)
			}
		})
	}
}
