package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
)

// BenchmarkOrganization plans an organization of 500 accounts of 20
// generated buckets each, behind 40 ms per request, through the CLI with
// its defaults (--concurrency auto, accounts 32 at a time). Not in CI
// (BENCH_ORG=1): it plans 10,000 buckets through 500 roles.
func BenchmarkOrganization(b *testing.B) {
	if os.Getenv("BENCH_ORG") == "" {
		b.Skip("set BENCH_ORG=1: 500 accounts × 20 buckets behind 40 ms")
	}
	const accounts, buckets, latency = 500, 20, 40 * time.Millisecond
	sc, err := emulator.GenerateOrg(accounts, buckets, orgRole, emulator.GenerateOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	org, err := emulator.StartOrg("127.0.0.1:0", sc, emulator.Options{Latency: latency, NoCallLog: true})
	if err != nil {
		b.Fatal(err)
	}
	defer org.Close()
	b.Setenv("AWS_ACCESS_KEY_ID", "test")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	b.Setenv("AWS_REGION", "us-east-1")
	b.Chdir(b.TempDir())
	cfg := filepath.Join(b.TempDir(), "org.yaml")
	if err := os.WriteFile(cfg, []byte("baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::{account}:role/LegacyFullAdmin\"]\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	for range b.N {
		start := time.Now()
		r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", org.URL(), "--accounts", "all", "--role-name", orgRole, "--out", filepath.Join(b.TempDir(), "plan.json"), "--allow-empty")
		spent := time.Since(start)
		if r.code != 0 {
			b.Fatalf("plan exited %d: %s", r.code, lastLine(r.stderr))
		}
		calls := 0
		for _, id := range org.AccountIDs() {
			for _, n := range org.Account(id).OpCounts() {
				calls += n
			}
			org.Account(id).ResetCalls()
		}
		// The latency bound: every call's latency over the 512 workers
		// of --concurrency auto.
		bound := time.Duration(calls) * latency / 512
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(bound.Seconds()/spent.Seconds(), "of-bound")
		b.ReportMetric(spent.Seconds(), "s/plan")
		b.ReportMetric(float64(accounts*buckets)/spent.Seconds(), "buckets/s")
	}
}
