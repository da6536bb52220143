package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// startScenario starts the emulator with the e2e scenario changed by edit.
func startScenario(t *testing.T, edit func(*emulator.Scenario)) *emulator.Server {
	t.Helper()
	sc := e2eScenario(t)
	edit(sc)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return startWith(t, sc, emulator.Options{})
}

func withoutBucket(name string) func(*emulator.Scenario) {
	return func(sc *emulator.Scenario) {
		sc.Buckets = slices.DeleteFunc(sc.Buckets, func(b emulator.Bucket) bool { return b.Name == name })
	}
}

func applyAuto(t *testing.T, srv *emulator.Server, extra ...string) result {
	t.Helper()
	args := append([]string{"apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve",
		"--journal", filepath.Join(t.TempDir(), "journal.jsonl")}, extra...)
	return runCLI(t, args...)
}

func writesOf(srv *emulator.Server, service string) []string {
	var out []string
	for _, c := range srv.WriteCalls() {
		if c.Service == service && c.Status < 300 {
			out = append(out, c.Operation)
		}
	}
	return out
}

// TestAccountBlockPublicAccess: with a low (public) bucket in scope the
// account flags are held back and the plan names the bucket; without it
// they are turned on. A bucket still public under a baseline that forbids
// it makes the account change carry that bucket's impact, and apply holds
// it back like the bucket's own.
func TestAccountBlockPublicAccess(t *testing.T) {
	t.Run("low public bucket in scope", func(t *testing.T) {
		srv := startEmulator(t, "e2e")
		p := planDoc2(t, srv, applyConfig())
		if _, ok := accountChange(p.AccountPlan, settings.AccountBlockPublicAccess); ok {
			t.Errorf("account Block Public Access planned with a low bucket in scope")
		}
		if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "public-downloads-site (low)") }) {
			t.Errorf("the plan does not name the public bucket: %q", p.Warnings)
		}
		// legacy-archive's ACLs are enabled, so its own changes carry an
		// impact; --allow-impact lets them through without touching the
		// account, which has no change to allow.
		if r := applyAuto(t, srv, "--allow-impact"); r.code != 0 {
			t.Fatalf("apply exited %d: %s", r.code, r.stderr)
		}
		if w := writesOf(srv, "s3control"); len(w) > 0 || srv.Snapshot().AccountPublicAccessBlock != nil {
			t.Errorf("account Block Public Access was written: %v", w)
		}
	})
	t.Run("no public bucket", func(t *testing.T) {
		// legacy-archive has ACLs enabled: its objects may be public through
		// their own ACLs, which is an impact of its own (see the next case).
		srv := startScenario(t, func(sc *emulator.Scenario) {
			withoutBucket("public-downloads-site")(sc)
			withoutBucket("legacy-archive")(sc)
		})
		// apply.yaml's rule for public-downloads-* now matches no bucket,
		// which --allow-empty lets pass.
		p := decodePlan(t, runCLI(t, "plan", "--config", applyConfig(), "--allow-empty", "--endpoint-url", srv.URL(), "--json"))
		if c, ok := accountChange(p.AccountPlan, settings.AccountBlockPublicAccess); !ok || c.Action != plan.Create || len(c.Impact) > 0 {
			t.Fatalf("account_block_public_access = %+v, want a create without impact", c)
		}
		// partner-exchange and shared-data are read by another account:
		// their KMS changes are impacts of their own, allowed here.
		if r := applyAuto(t, srv, "--allow-impact", "--allow-empty"); r.code != 0 {
			t.Fatalf("apply exited %d: %s", r.code, r.stderr)
		}
		got := srv.Snapshot().AccountPublicAccessBlock
		if got == nil || !got.BlockPublicAcls || !got.IgnorePublicAcls || !got.BlockPublicPolicy || !got.RestrictPublicBuckets {
			t.Errorf("account Block Public Access after apply: %+v, want all four on", got)
		}
	})
	t.Run("public bucket under high", func(t *testing.T) {
		srv := startEmulator(t, "e2e")
		cfg := filepath.Join(t.TempDir(), "high.yaml")
		writeFile(t, cfg, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::123456789012:role/LegacyFullAdmin\"]\n"+
			"buckets:\n  - match: shared-data\n    exempt: [event_notifications]\n    reason: overlap\n")
		p := planDoc2(t, srv, cfg)
		c, ok := accountChange(p.AccountPlan, settings.AccountBlockPublicAccess)
		if !ok || !slices.ContainsFunc(c.Impact, func(i string) bool {
			names, _, ok := plan.ImpactBuckets(i)
			return ok && slices.Contains(names, "public-downloads-site")
		}) {
			t.Fatalf("account_block_public_access = %+v, want the public bucket's impact", c)
		}
		// Held back is not complete: exit 1, with the reason on stderr.
		r := runCLI(t, "apply", "--config", cfg, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "j.jsonl"))
		if r.code != 1 || !strings.Contains(r.stderr, "account 123456789012: account_block_public_access: held back: ") ||
			!strings.Contains(r.stdout, "account 123456789012 account_block_public_access: skipped") {
			t.Errorf("apply exited %d; want the account change held back\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if w := writesOf(srv, "s3control"); len(w) > 0 {
			t.Errorf("account Block Public Access was written without --allow-impact: %v", w)
		}
	})
}

func planDoc2(t *testing.T, srv *emulator.Server, config string) *plan.Plan {
	t.Helper()
	r := runCLI(t, "plan", "--config", config, "--endpoint-url", srv.URL(), "--json")
	p := decodePlan(t, r)
	return p
}

// TestTrail: the trail is created with the buckets' data events, the
// insight and logging on; a trail of ours that exists keeps every selector
// it has; a trail that already satisfies the control is left alone.
func TestTrail(t *testing.T) {
	const ours = "s3baseline-data-events"
	t.Run("created", func(t *testing.T) {
		srv := startEmulator(t, "e2e")
		if r := applyAuto(t, srv, "--allow-impact"); r.code != 0 {
			t.Fatalf("apply exited %d: %s", r.code, r.stderr)
		}
		tr := findTrail(srv.Snapshot().Trails, ours)
		if tr == nil {
			t.Fatal("no trail after apply")
		}
		if !tr.IsLogging || !tr.MultiRegion || !tr.LogFileValidation || !strings.Contains(tr.KMSKeyID, ":key/") ||
			!slices.Equal(tr.Insights, []string{settings.InsightAPICallRate}) || len(tr.EventSelectors) > 0 {
			t.Errorf("trail: %+v", *tr)
		}
		prefixes := dataPrefixes(tr.AdvancedEventSelectors)
		for _, b := range []string{"legacy-archive", "modern-default", "compliant-high", "partner-exchange"} {
			if !slices.Contains(prefixes, "arn:aws:s3:::"+b+"/") {
				t.Errorf("no data events for %s: %v", b, prefixes)
			}
		}
		for _, b := range []string{"public-downloads-site", "s3baseline-logs-123456789012-us-east-1", "s3baseline-cloudtrail-123456789012"} {
			if slices.Contains(prefixes, "arn:aws:s3:::"+b+"/") {
				t.Errorf("data events for %s (a low bucket, a log target or the trail's own bucket)", b)
			}
		}
	})
	t.Run("existing selectors kept", func(t *testing.T) {
		srv := startScenario(t, func(sc *emulator.Scenario) {
			// The trail's own bucket, which CloudTrail may write to: a
			// rollback points the trail back at it.
			sc.Buckets = append(sc.Buckets, emulator.Bucket{Name: "old-trail-bucket", Region: "us-east-1", CreationDate: "2024-01-01T00:00:00Z",
				Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[` +
					`{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::old-trail-bucket"},` +
					`{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::old-trail-bucket/AWSLogs/123456789012/*"}]}`)})
			sc.Trails = append(sc.Trails, emulator.Trail{
				Name: ours, HomeRegion: "us-east-1", S3BucketName: "old-trail-bucket",
				EventSelectors: []emulator.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
					DataResources: []emulator.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}},
						{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::partner-bucket/"}}}}},
			})
		})
		p := planDoc2(t, srv, applyConfig())
		if c, ok := accountChange(p.AccountPlan, settings.CloudTrailDataEvents); !ok || c.Action != plan.Update {
			t.Fatalf("cloudtrail_data_events = %+v, want update of our trail", c)
		}
		before := *findTrail(srv.Snapshot().Trails, ours)
		journal := filepath.Join(t.TempDir(), "j.jsonl")
		if r := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact", "--journal", journal); r.code != 0 {
			t.Fatalf("apply exited %d: %s", r.code, r.stderr)
		}
		defer func() {
			// Rollback puts the trail back exactly as it was: its bucket,
			// its one selector, no insight, not logging.
			if r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "rb.jsonl")); r.code != 0 {
				t.Fatalf("rollback exited %d: %s", r.code, r.stderr)
			}
			if diff := cmp.Diff(before, *findTrail(srv.Snapshot().Trails, ours)); diff != "" {
				t.Errorf("the trail after rollback differs (-before +after):\n%s", diff)
			}
		}()
		tr := findTrail(srv.Snapshot().Trails, ours)
		if tr == nil || !tr.IsLogging || !tr.MultiRegion || len(tr.AdvancedEventSelectors) > 0 || len(tr.EventSelectors) != 1 {
			t.Fatalf("trail after apply: %+v", tr)
		}
		var values []string
		lambda := false
		for _, d := range tr.EventSelectors[0].DataResources {
			if d.Type == "AWS::S3::Object" {
				values = d.Values
			}
			lambda = lambda || (d.Type == "AWS::Lambda::Function" && slices.Equal(d.Values, []string{"arn:aws:lambda"}))
		}
		if !lambda || !slices.Contains(values, "arn:aws:s3:::partner-bucket/") || !slices.Contains(values, "arn:aws:s3:::legacy-archive/") {
			t.Errorf("selectors after apply lost something or lack ours: %+v", tr.EventSelectors)
		}
		if !tr.EventSelectors[0].IncludeManagementEvents || !slices.Contains(tr.Insights, settings.InsightAPICallRate) {
			t.Errorf("management events or the insight are off: %+v", *tr)
		}
	})
	t.Run("satisfying trail left alone", func(t *testing.T) {
		srv := startScenario(t, func(sc *emulator.Scenario) {
			sc.Trails = append(sc.Trails, emulator.Trail{
				Name: "corp-audit", HomeRegion: "eu-west-1", S3BucketName: "corp-audit-logs", MultiRegion: true,
				LogFileValidation: true, IsLogging: true, KMSKeyID: "alias/s3baseline",
				AdvancedEventSelectors: []emulator.AdvancedEventSelector{
					{Name: "management", FieldSelectors: []emulator.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
					{Name: "all S3 objects", FieldSelectors: []emulator.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}},
						{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}},
				},
				Insights: []string{settings.InsightAPICallRate},
			})
		})
		p := planDoc2(t, srv, applyConfig())
		if c, ok := accountChange(p.AccountPlan, settings.CloudTrailDataEvents); !ok || c.Action != plan.NoOp || !strings.Contains(c.Reason, "corp-audit") {
			t.Fatalf("cloudtrail_data_events = %+v, want a no-op naming corp-audit", c)
		}
		if r := applyAuto(t, srv, "--allow-impact"); r.code != 0 {
			t.Fatalf("apply exited %d: %s", r.code, r.stderr)
		}
		if w := writesOf(srv, "cloudtrail"); len(w) > 0 {
			t.Errorf("apply wrote to CloudTrail: %v", w)
		}
		if _, ok := srv.Snapshot().Buckets["s3baseline-cloudtrail-123456789012"]; ok {
			t.Errorf("apply created a trail bucket it does not need")
		}
	})
}

func dataPrefixes(sel []emulator.AdvancedEventSelector) []string {
	var out []string
	for _, s := range sel {
		for _, f := range s.FieldSelectors {
			if f.Field == "resources.ARN" {
				out = append(out, f.StartsWith...)
			}
		}
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func decodePlan(t *testing.T, r result) *plan.Plan {
	t.Helper()
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json (exit %d) is not a plan document: %v\nstderr: %s", r.code, err, r.stderr)
	}
	return &p
}

// TestTrailStale: a trail of ours made by someone else after the plan was
// saved makes the trail change stale: named, nothing written to the trail,
// and the buckets are applied.
func TestTrailStale(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if r := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--out", planFile); r.code != 0 {
		t.Fatalf("plan: %s", r.stderr)
	}
	prov, err := awsprovider.New(context.Background(), awsprovider.Options{EndpointURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	// Someone creates the trail by hand, logging one bucket.
	if _, err := prov.CreateBucket(context.Background(), settings.BucketRef{Name: "hand-made-trail-logs", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	if err := prov.PutPolicy(context.Background(), settings.BucketRef{Name: "hand-made-trail-logs", Region: "us-east-1"}, &settings.Policy{Raw: `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::hand-made-trail-logs"},` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::hand-made-trail-logs/AWSLogs/123456789012/*"}]}`}); err != nil {
		t.Fatal(err)
	}
	hand := settings.Trail{Name: "s3baseline-data-events", HomeRegion: "us-east-1", S3BucketName: "hand-made-trail-logs", IsLogging: true,
		EventSelectors: []settings.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			DataResources: []settings.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::legacy-archive/"}}}}}}
	if err := prov.PutTrail(context.Background(), hand); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()

	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--allow-impact", "--journal", filepath.Join(dir, "j.jsonl"))
	if r.code != 1 || !strings.Contains(r.stderr, "account 123456789012: cloudtrail_data_events: its state changed since the plan was made") {
		t.Fatalf("apply exited %d; want 1 and the trail named stale\nstderr: %s", r.code, r.stderr)
	}
	if w := writesOf(srv, "cloudtrail"); len(w) > 0 {
		t.Errorf("the stale trail was written: %v", w)
	}
	if tr := findTrail(srv.Snapshot().Trails, "s3baseline-data-events"); tr == nil || tr.S3BucketName != "hand-made-trail-logs" {
		t.Errorf("the hand-made trail changed: %+v", tr)
	}
	if srv.Snapshot().Buckets["legacy-archive"].PublicAccessBlock == nil {
		t.Errorf("legacy-archive was not applied: a stale trail must not stop the buckets")
	}
}
