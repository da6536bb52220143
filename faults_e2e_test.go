package main

// End-to-end tests under faults: the real CLI against a generated account
// while the emulator throttles, fails, resets connections and hangs a
// region (emulator.Chaos), the way AWS behaves at scale.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// startGenerated serves a generated account of n buckets.
func startGenerated(t *testing.T, n int, gen emulator.GenerateOptions, opts emulator.Options) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start("127.0.0.1:0", emulator.GenerateScenario(n, gen), opts)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	isolateAWSEnv(t)
	return srv
}

func e2eConfig() string { return filepath.Join(repoTestdata, "e2e.yaml") }

// allowEmpty goes with e2eConfig on a generated account: e2e.yaml's rules
// are written for the e2e scenario, and on a generated account some match
// no bucket, which is an error without it.
const allowEmpty = "--allow-empty"

// planDoc runs plan --json and decodes it whatever the exit code.
func planDoc(t *testing.T, srv *emulator.Server, extra ...string) (*plan.Plan, result) {
	t.Helper()
	r := runCLI(t, append([]string{"plan", "--config", e2eConfig(), allowEmpty, "--endpoint-url", srv.URL(), "--json"}, extra...)...)
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json (exit %d) is not a plan document: %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	p.CreatedAt = time.Time{}
	return &p, r
}

// countFaults counts the calls the emulator answered with an injected
// fault, by error code.
func countFaults(srv *emulator.Server) map[string]int {
	out := map[string]int{}
	for _, c := range srv.Calls() {
		switch c.ErrorCode {
		case "SlowDown", "InternalError", "OperationAborted", "Throttling", "ThrottlingException",
			"KMSInternalException", emulator.CodeConnectionReset, emulator.CodeHung:
			out[c.ErrorCode]++
		}
	}
	return out
}

// TestPlanUnderThrottling: with 5% of all calls throttled, some failing
// with 500 and some slow, plan retries its way to exactly the plan it
// makes without faults, with no bucket error and never the SDK's client
// side "retry quota exceeded" (aws-semantics §12).
func TestPlanUnderThrottling(t *testing.T) {
	const n = 200
	gen := emulator.GenerateOptions{Seed: 11, DriftFraction: 0.3}

	clean := startGenerated(t, n, gen, emulator.Options{})
	want, r := planDoc(t, clean, "--concurrency", "64")
	if r.code != 0 {
		t.Fatalf("plan without faults exited %d\n%s", r.code, r.stderr)
	}
	if len(want.Buckets) != n || want.Summary.Errors != 0 {
		t.Fatalf("plan without faults: %d buckets, %d errors", len(want.Buckets), want.Summary.Errors)
	}

	chaos := startGenerated(t, n, gen, emulator.Options{Chaos: emulator.Chaos{
		Seed: 5, SlowDownRate: 0.05, InternalErrorRate: 0.01,
		SpikeRate: 0.02, SpikeLatency: 50 * time.Millisecond,
	}})
	got, r := planDoc(t, chaos, "--concurrency", "64")
	if r.code != 0 {
		t.Errorf("plan under throttling exited %d\nstderr: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "retry quota exceeded") {
		t.Errorf("the client ran out of retry tokens:\n%s", r.stderr)
	}
	for _, b := range got.Buckets {
		if len(b.Errors) > 0 {
			t.Errorf("bucket %s: %q", b.Name, b.Errors)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan under throttling differs from the plan without (-clean +chaos):\n%s", diff)
	}

	faults := countFaults(chaos)
	if faults["SlowDown"] == 0 || faults["InternalError"] == 0 {
		t.Errorf("no faults were injected (%v): the test proves nothing", faults)
	}
	t.Logf("faults injected and retried: %v over %d calls", faults, len(chaos.Calls()))
}

// TestPlanUnderHeavyThrottling: with 60% of all calls answered SlowDown (or
// Throttling, ThrottlingException), a plan of 30 buckets still reads every
// bucket and makes exactly the plan it makes without throttling: a call
// that keeps being throttled keeps retrying with backoff rather than
// failing after MaxAttempts or being taken for a region that does not
// answer. Each attempt answers within --call-timeout; the whole call may
// take longer. (The backoff is capped low so the test is quick; the
// retries are the SDK's own, over HTTP.)
func TestPlanUnderHeavyThrottling(t *testing.T) {
	const n = 30
	gen := emulator.GenerateOptions{Seed: 17, DriftFraction: 0.3}
	fast := func(o *awsprovider.Options) { o.MaxBackoff = 40 * time.Millisecond }
	args := func(srv *emulator.Server) []string {
		return []string{"plan", "--config", e2eConfig(), allowEmpty, "--endpoint-url", srv.URL(), "--json", "--call-timeout", "2s"}
	}
	decode := func(r result) *plan.Plan {
		var p plan.Plan
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("plan --json (exit %d) is not a plan document: %v\nstderr: %s", r.code, err, r.stderr)
		}
		p.CreatedAt = time.Time{}
		return &p
	}

	clean := startGenerated(t, n, gen, emulator.Options{})
	r := runCLITuned(t, fast, args(clean)...)
	if r.code != 0 {
		t.Fatalf("plan without faults exited %d\n%s", r.code, r.stderr)
	}
	want := decode(r)

	chaos := startGenerated(t, n, gen, emulator.Options{Latency: 5 * time.Millisecond, Chaos: emulator.Chaos{Seed: 23, SlowDownRate: 0.6}})
	begin := time.Now()
	r = runCLITuned(t, fast, args(chaos)...)
	took := time.Since(begin)
	got := decode(r)
	if r.code != 0 {
		t.Errorf("plan under 60%% throttling exited %d\nstderr: %s", r.code, r.stderr)
	}
	unread := 0
	for _, b := range got.Buckets {
		if len(b.Errors) > 0 {
			unread++
			t.Errorf("bucket %s was not read: %q", b.Name, b.Errors)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan under throttling differs from the plan without (-clean +chaos):\n%s", diff)
	}
	faults := countFaults(chaos)
	throttled := faults["SlowDown"] + faults["Throttling"] + faults["ThrottlingException"]
	calls := len(chaos.Calls())
	if throttled < calls/2 {
		t.Errorf("%d of %d calls throttled, want about 60%%: the test proves less than it says", throttled, calls)
	}
	t.Logf("%d buckets, %d unread; %d of %d calls throttled; plan took %v", len(got.Buckets), unread, throttled, calls, took.Round(time.Millisecond))
}

// TestPlanHungRegion: an opt-in region whose endpoint never answers fails
// its buckets, each with one line naming the bucket, its region and the
// timeout, after --call-timeout; every other bucket is planned normally
// and the run ends.
func TestPlanHungRegion(t *testing.T) {
	// With e2e.yaml, whose rules match on tags, a bucket's first read is
	// its tags; without tag rules it is every aspect of the bucket.
	for name, config := range map[string]string{"tag rules": e2eConfig(), "no tag rules": ""} {
		t.Run(name, func(t *testing.T) { testPlanHungRegion(t, config) })
	}
}

func testPlanHungRegion(t *testing.T, config string) {
	const hung = "ap-southeast-2"
	const workers = 4
	gen := emulator.GenerateOptions{Seed: 3}
	srv := startGenerated(t, 48, gen, emulator.Options{Chaos: emulator.Chaos{HungRegions: []string{hung}}})
	if config == "" {
		config = filepath.Join(t.TempDir(), "s3baseline.yaml")
		if err := os.WriteFile(config, []byte("baseline: high\nsettings:\n  admin_lock:\n    deny: [\""+emulator.GeneratedAdminRole+"\"]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	done := make(chan struct{})
	var r result
	go func() {
		defer close(done)
		r = runCLI(t, "plan", "--config", config, allowEmpty, "--endpoint-url", srv.URL(), "--json", "--call-timeout", "300ms", "--concurrency", strconv.Itoa(workers))
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("plan against a hung region never returned")
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json (exit %d) is not a plan document: %v\nstderr: %s", r.code, err, r.stderr)
	}

	if r.code != 1 {
		t.Errorf("plan exited %d, want 1 (buckets could not be observed)", r.code)
	}
	hungBuckets := map[string]bool{}
	for _, b := range p.Buckets {
		if b.Region != hung {
			if len(b.Errors) > 0 {
				t.Errorf("bucket %s in %s: %q; only %s hangs", b.Name, b.Region, b.Errors, hung)
			}
			if len(b.Changes) == 0 {
				t.Errorf("bucket %s in %s was not planned", b.Name, b.Region)
			}
			continue
		}
		hungBuckets[b.Name] = true
		if len(b.Errors) == 0 {
			t.Errorf("bucket %s in the hung region has no error", b.Name)
		}
	}
	if len(hungBuckets) == 0 {
		t.Fatalf("no bucket of %s in the plan: the test proves nothing", hung)
	}
	// Every line on stderr is one failed bucket of the hung region: the
	// bucket, its region, and that the call timed out.
	lineRe := regexp.MustCompile(`^s3baseline: bucket "([^"]+)" \(` + hung + `\): [^\n]*timed out`)
	named := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.HasPrefix(l, "note: ") {
			continue // e2e.yaml's rules matching nothing here (allowEmpty)
		}
		m := lineRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("stderr line is not a timeout of a bucket in %s: %s", hung, l)
			continue
		}
		named[m[1]] = true
	}
	for b := range hungBuckets {
		if !named[b] {
			t.Errorf("no one-line timeout error for %s on stderr:\n%s", b, r.stderr)
		}
	}
	// A bucket whose read timed out is not asked for its other aspects, and
	// a region that let one read time out is not asked again: at most one
	// hung read per worker, not one per aspect of every bucket there.
	hangs := countFaults(srv)[emulator.CodeHung]
	if hangs == 0 {
		t.Errorf("no request hung: the test proves nothing")
	}
	if hangs > workers {
		t.Errorf("%d reads hung for %d buckets of %s; want at most %d (one per worker)", hangs, len(hungBuckets), hung, workers)
	}
	if len(hungBuckets) <= 2*workers {
		t.Errorf("only %d buckets in %s: too few to tell one timeout per worker from one per aspect", len(hungBuckets), hung)
	}
	t.Logf("%d buckets in %s, %d reads hung", len(hungBuckets), hung, hangs)
	t.Logf("stderr:\n%s", r.stderr)
}

// TestApplyUnderFaultsLosesNothing: an apply hit by throttling, conflicts,
// resets (some after the write took effect) and 500s may fail buckets, but
// loses nothing of anyone else's, and a later apply without faults
// converges.
func TestApplyUnderFaultsLosesNothing(t *testing.T) {
	const n = 100
	srv := startGenerated(t, n, emulator.GenerateOptions{Seed: 21, DriftFraction: 0.3}, emulator.Options{})
	before := srv.Snapshot()
	dir := t.TempDir()

	srv.SetChaos(emulator.Chaos{Seed: 9, SlowDownRate: 0.05, OperationAbortedRate: 0.05, ResetRate: 0.01, InternalErrorRate: 0.02})
	first := runCLI(t, "apply", "--config", e2eConfig(), allowEmpty, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
		"--concurrency", "64", "--journal", filepath.Join(dir, "j1.jsonl"))
	if first.code != 0 && first.code != 1 {
		t.Fatalf("apply under faults exited %d\n%s", first.code, first.stderr)
	}
	faults := countFaults(srv)
	if faults["OperationAborted"] == 0 || faults[emulator.CodeConnectionReset] == 0 || faults["SlowDown"] == 0 {
		t.Errorf("not every kind of fault was injected (%v): the test proves less than it says", faults)
	}
	t.Logf("apply under faults exited %d; faults: %v", first.code, faults)

	srv.SetChaos(emulator.Chaos{})
	second := runCLI(t, "apply", "--config", e2eConfig(), allowEmpty, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
		"--concurrency", "64", "--journal", filepath.Join(dir, "j2.jsonl"))
	if second.code != 0 {
		t.Errorf("apply without faults exited %d\n%s", second.code, second.stderr)
	}
	again := runCLI(t, "plan", "--config", e2eConfig(), allowEmpty, "--endpoint-url", srv.URL(), "--detailed-exitcode")
	if again.code != 0 {
		t.Errorf("plan after the second apply exited %d (want 0: converged)\n%s", again.code, again.stderr)
	}

	after := srv.Snapshot()
	shared := 0
	for name, b := range before.Buckets {
		a := after.Buckets[name]
		for _, st := range foreignStatements(t, b.Policy) {
			shared++
			if !containsStatement(t, a.Policy, st) {
				t.Errorf("%s: foreign statement lost or changed: %s\npolicy now: %s", name, st, a.Policy)
			}
		}
		for _, e := range b.Notifications.Entries {
			if e.ID == "s3baseline" {
				continue
			}
			if !slicesContainsJSON(a.Notifications.Entries, e) {
				t.Errorf("%s: notification %+v lost or changed; now %+v", name, e, a.Notifications.Entries)
			}
		}
		if b.Notifications.EventBridge && !a.Notifications.EventBridge {
			t.Errorf("%s: EventBridge setting lost", name)
		}
	}
	if shared == 0 {
		t.Fatal("the scenario has no foreign statements: the test proves nothing")
	}
}
