package aws_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// adaptiveRun has 96 workers observe the e2e buckets over and over through
// an adaptive provider, and returns the S3 window of eu-west-1 and the
// observations that failed.
func adaptiveRun(t *testing.T, chaos emulator.Chaos) (limit, peak float64, failed int) {
	t.Helper()
	srv := start(t, e2eScenario(t), emulator.Options{Latency: 5 * time.Millisecond, Chaos: chaos})
	p := newProvider(t, srv, func(o *awsprovider.Options) { o.Adaptive = true; o.MaxAttempts = 10 })
	ref := settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 96 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				st := p.ObserveBucket(context.Background(), ref, []settings.Aspect{settings.AspectPublicAccessBlock})
				if len(st.Errors) > 0 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	w, ok := p.AdaptiveLimits()["S3|eu-west-1"]
	if !ok {
		t.Fatalf("no S3 window for eu-west-1: %v", p.AdaptiveLimits())
	}
	return w[0], w[1], failed
}

// TestAdaptiveGrowsAndBacksOff: with fast, unthrottled answers the window
// grows past where it starts; under injected SlowDown it backs off, and
// no observation fails for it.
func TestAdaptiveGrowsAndBacksOff(t *testing.T) {
	limit, peak, failed := adaptiveRun(t, emulator.Chaos{})
	t.Logf("unthrottled: window %.1f, peak %.1f", limit, peak)
	if failed != 0 || peak < 24 {
		t.Errorf("unthrottled: peak window %.1f (now %.1f), %d failed; want it grown past 16 and none failed", peak, limit, failed)
	}
	limit, peak, failed = adaptiveRun(t, emulator.Chaos{Seed: 7, SlowDownRate: 0.2})
	t.Logf("20%% SlowDown: window %.1f, peak %.1f", limit, peak)
	if failed != 0 {
		t.Errorf("under 20%% SlowDown %d observations failed", failed)
	}
	if limit >= peak || limit > 16 {
		t.Errorf("under 20%% SlowDown the window is %.1f (peak %.1f): it did not back off", limit, peak)
	}
}

// TestAdaptivePerAccount: each member account has windows of its own, so
// one account answering SlowDown shrinks its window and not another's.
func TestAdaptivePerAccount(t *testing.T) {
	org := startOrg(t, orgScenario(t, 0))
	isolateEnv(t)
	o := awsprovider.Options{EndpointURL: org.URL(), MaxAttempts: 10, Adaptive: true}
	awsprovider.SetMaxBackoff(&o, 5*time.Millisecond)
	p, err := awsprovider.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := p.ForAccount(context.Background(), "222222222222", roleName, "")
	if err != nil {
		t.Fatal(err)
	}
	throttled, err := p.ForAccount(context.Background(), "333333333333", roleName, "")
	if err != nil {
		t.Fatal(err)
	}
	org.Account("333333333333").InjectFault(emulator.Fault{Service: "s3", Operation: "GetPublicAccessBlock", Status: 503, Code: "SlowDown", Times: 60})
	var wg sync.WaitGroup
	for _, run := range []struct {
		p   *awsprovider.Provider
		ref settings.BucketRef
	}{{quiet, settings.BucketRef{Name: "app-assets-222222222222", Region: "us-east-1"}}, {throttled, settings.BucketRef{Name: "data-lake-333333333333", Region: "us-east-1"}}} {
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					run.p.ObserveBucket(context.Background(), run.ref, []settings.Aspect{settings.AspectPublicAccessBlock})
				}
			}()
		}
	}
	wg.Wait()
	q, th := quiet.AdaptiveLimits()["S3|us-east-1"], throttled.AdaptiveLimits()["S3|us-east-1"]
	t.Logf("quiet account: window %.1f; throttled account: window %.1f", q[0], th[0])
	if th[0] >= q[0] || q[0] < 16 {
		t.Errorf("quiet account's window %.1f, throttled account's %.1f: want the throttled one smaller and the quiet one not shrunk", q[0], th[0])
	}
}
