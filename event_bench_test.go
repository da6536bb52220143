package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

// BenchmarkEventBPADeletion: from a DeleteBucketPublicAccessBlock event to
// the bucket fixed, behind 40 ms per request (the target: under
// 2 s and under 20 calls). Reported per event: the calls the run made and
// their wall time.
func BenchmarkEventBPADeletion(b *testing.B) {
	sc, err := fixtures.Scenario("e2e")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := emulator.Start("127.0.0.1:0", sc, emulator.Options{Latency: 40 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	t := &testing.T{}
	b.Setenv("AWS_ACCESS_KEY_ID", "test")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	b.Setenv("AWS_REGION", "us-east-1")
	b.Setenv("NO_COLOR", "1")
	b.Chdir(b.TempDir())
	ref := settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"}
	data := trailEvent(t, handled(t, "DeleteBucketPublicAccessBlock"), ref.Region, ref.Name, someone)
	other := otherParty(t, srv)
	cfg := filepath.Join(repoTestdata, "e2e.yaml")
	var calls int
	var spent time.Duration
	for i := range b.N {
		b.StopTimer()
		if err := other.PutPublicAccessBlock(context.Background(), ref, nil); err != nil {
			b.Fatal(err)
		}
		srv.ResetCalls()
		b.StartTimer()
		start := time.Now()
		r := runEvent(t, data, "--config", cfg, "--endpoint-url", srv.URL(), "--mode", "apply",
			"--journal", filepath.Join(b.TempDir(), "j.jsonl"))
		spent += time.Since(start)
		b.StopTimer()
		if r.code != 0 {
			b.Fatalf("run %d exited %d: %s", i, r.code, r.stderr)
		}
		calls += len(srv.Calls())
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/event")
	b.ReportMetric(spent.Seconds()/float64(b.N), "s/event")
}
