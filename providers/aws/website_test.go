package aws_test

import (
	"context"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

// TestObserveWebsite: the website aspect maps NoSuchWebsiteConfiguration to
// absent and reads a configured site.
func TestObserveWebsite(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	cases := map[string]struct {
		bucket string
		want   bool
	}{
		"website": {"public-downloads-site", true},
		"none":    {"legacy-archive", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			region := "us-east-1"
			st := p.ObserveBucket(context.Background(), settings.BucketRef{Name: tc.bucket, Region: region}, []settings.Aspect{settings.AspectWebsite})
			if len(st.Errors) > 0 || !st.Has(settings.AspectWebsite) {
				t.Fatalf("observe website of %s: errors %v, observed %v", tc.bucket, st.Errors, st.Observed)
			}
			if got := st.Website != nil; got != tc.want {
				t.Errorf("website of %s = %+v, want configured=%v", tc.bucket, st.Website, tc.want)
			}
		})
	}
}
