package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
)

// benchLatency is the emulator's injected latency in the Go benchmarks:
// BENCH_LATENCY (a Go duration), else none, so that they measure what a
// plan costs in CPU and allocations rather than how long it waits. The
// driver (go run ./bench) measures the waiting.
func benchLatency(b *testing.B) time.Duration {
	v := os.Getenv("BENCH_LATENCY")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("BENCH_LATENCY: %v", err)
	}
	return d
}

// benchmarkPlan plans a generated account of n buckets, in-process, with
// the same config (of the rule set), provider and plan code as the
// driver's child.
func benchmarkPlan(b *testing.B, n, concurrency int, rules string) {
	latency := benchLatency(b)
	srv, err := emulator.Start("127.0.0.1:0", emulator.GenerateScenario(n, emulator.GenerateOptions{Seed: 1}),
		emulator.Options{Latency: latency, Jitter: latency / 10, NoCallLog: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			b.Setenv(name, "") // registers the restore
			os.Unsetenv(name)
		}
	}
	for _, kv := range isolatedEnv(nil) {
		name, value, _ := strings.Cut(kv, "=")
		b.Setenv(name, value)
	}
	cfg, _, err := loadConfig(b.TempDir(), rules)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	calls := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// A new provider each time: no key cache or connection carried over.
		prov, err := newProvider(ctx, srv.URL(), concurrency, false, false)
		if err != nil {
			b.Fatal(err)
		}
		before := sum(srv.OpCounts())
		b.StartTimer()
		var res result
		if _, err := planOnce(ctx, prov, cfg, concurrency, &res); err != nil {
			b.Fatal(err)
		}
		if res.Buckets != n || res.BucketErrors != 0 {
			b.Fatalf("planned %d buckets with %d errors, want %d and none", res.Buckets, res.BucketErrors, n)
		}
		calls += sum(srv.OpCounts()) - before
	}
	b.ReportMetric(float64(calls)/float64(b.N*n), "calls/bucket")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/bucket")
}

func BenchmarkPlan100(b *testing.B)       { benchmarkPlan(b, 100, 64, rulesTags) }
func BenchmarkPlan1000(b *testing.B)      { benchmarkPlan(b, 1000, 64, rulesTags) }
func BenchmarkPlan1000Names(b *testing.B) { benchmarkPlan(b, 1000, 64, rulesNames) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
