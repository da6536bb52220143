package main

// End-to-end tests of the controls the coverage work added, each against
// the emulator over HTTP with the real provider: versioning is planned,
// applied and rolled back; the report-only controls give a finding on a
// bucket that fails them and none on one that passes.

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

const coverageConfig = "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::{account}:role/LegacyFullAdmin\"]\n"

// coverageScenario is the e2e scenario plus a bucket for each way the new
// controls can pass or fail.
func coverageScenario(t *testing.T) *emulator.Server {
	return startScenario(t, func(sc *emulator.Scenario) {
		open := &emulator.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
		sc.Buckets = append(sc.Buckets,
			emulator.Bucket{Name: "ver-suspended", Region: "us-east-1", CreationDate: "2024-02-01T00:00:00Z", Versioning: "Suspended"},
			emulator.Bucket{Name: "ver-mfa", Region: "us-east-1", CreationDate: "2024-02-01T00:00:00Z", Versioning: "Suspended", MFADelete: true},
			emulator.Bucket{Name: "locked", Region: "us-east-1", CreationDate: "2024-02-01T00:00:00Z",
				ObjectLock: &emulator.ObjectLock{Mode: "GOVERNANCE", Days: 30},
				Lifecycle:  []emulator.LifecycleRule{{ID: "old", Status: "Enabled", NoncurrentExpirationDays: 30}}},
			emulator.Bucket{Name: "public-acl", Region: "us-east-1", CreationDate: "2020-02-01T00:00:00Z", Ownership: "ObjectWriter",
				ACL: []emulator.Grant{{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"}}},
			emulator.Bucket{Name: "partner-admin", Region: "us-east-1", CreationDate: "2024-02-01T00:00:00Z",
				Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow",` +
					`"Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":["s3:GetObject","s3:PutBucketPolicy"],` +
					`"Resource":["arn:aws:s3:::partner-admin","arn:aws:s3:::partner-admin/*"]}]}`)},
		)
		sc.AccessPoints = append(sc.AccessPoints,
			emulator.AccessPoint{Name: "open-ap", Bucket: "compliant-high", Region: "eu-west-1", PublicAccessBlock: open},
			emulator.AccessPoint{Name: "closed-ap", Bucket: "compliant-high", Region: "eu-west-1"},
		)
		sc.DirectoryBuckets = append(sc.DirectoryBuckets,
			emulator.DirectoryBucket{Name: "scratch--use1-az4--x-s3", Region: "us-east-1", AvailabilityZoneID: "use1-az4"})
		sc.MultiRegionAccessPoints = append(sc.MultiRegionAccessPoints,
			emulator.MultiRegionAccessPoint{Name: "global-open", PublicAccessBlock: open, Regions: []emulator.MRAPRegion{{Bucket: "compliant-high", Region: "eu-west-1"}}},
			emulator.MultiRegionAccessPoint{Name: "global-shut", Regions: []emulator.MRAPRegion{{Bucket: "modern-default", Region: "us-east-1"}}},
		)
	})
}

func findingsOf(p *plan.Plan) map[string][]string {
	out := map[string][]string{}
	for _, b := range p.Buckets {
		for _, f := range b.Findings {
			out[string(f.Control)] = append(out[string(f.Control)], b.Name)
		}
	}
	for _, f := range p.Findings {
		out[string(f.Control)] = append(out[string(f.Control)], f.Subject)
	}
	return out
}

func TestReportControlsEndToEnd(t *testing.T) {
	srv := coverageScenario(t)
	r := runCLI(t, "plan", "--config", configFile(t, coverageConfig), "--endpoint-url", srv.URL(), "--json")
	if r.code != 0 && r.code != 2 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	f := findingsOf(&p)
	cases := []struct {
		control       string
		fails, passes string
	}{
		{"mfa_delete", "compliant-high", "ver-mfa"},
		{"object_lock", "compliant-high", "locked"},
		{"lifecycle", "modern-default", "compliant-high"},
		{"acl_grants", "public-acl", "compliant-high"},
		{"cross_account_policy", "partner-admin", "compliant-high"},
		{"access_point_bpa", "arn:aws:s3:eu-west-1:123456789012:accesspoint/open-ap", "arn:aws:s3:eu-west-1:123456789012:accesspoint/closed-ap"},
		{"mrap_bpa", "global-open", "global-shut"},
	}
	for _, tc := range cases {
		has := func(name string) bool {
			return slices.ContainsFunc(f[tc.control], func(s string) bool { return s == name || strings.Contains(s, name) })
		}
		if tc.control == "mrap_bpa" {
			// An MRAP finding's subject is its ARN, by alias; the detail
			// names it (checked below).
			continue
		}
		if !has(tc.fails) {
			t.Errorf("%s: no finding for %s (findings %v)", tc.control, tc.fails, f[tc.control])
		}
		if has(tc.passes) {
			t.Errorf("%s: a finding for %s, which passes", tc.control, tc.passes)
		}
	}
	var mrap []string
	for _, x := range p.Findings {
		if x.Control == settings.MRAPBPA {
			mrap = append(mrap, x.Detail)
		}
	}
	if len(mrap) != 1 || !strings.Contains(mrap[0], "global-open") || len(f["mrap_bpa"]) != 1 {
		t.Errorf("mrap_bpa findings %q, want the one for global-open", mrap)
	}
	for _, w := range srv.WriteCalls() {
		t.Errorf("plan wrote: %+v", w)
	}
}

// TestVersioningEndToEnd: versioning is enabled where it was never enabled
// or suspended, held back where MFA delete guards it, and rollback suspends
// it only where it was off before: S3 cannot turn it off.
func TestVersioningEndToEnd(t *testing.T) {
	srv := coverageScenario(t)
	cfg := configFile(t, coverageConfig)
	dir := t.TempDir()
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--out", planFile)
	if r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	var p plan.Plan
	r = runCLI(t, "show", planFile, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("show --json: %v (%s)", err, r.stderr)
	}
	want := map[string]string{"modern-default": "create", "ver-suspended": "update", "ver-mfa": "update", "compliant-high": "no-op"}
	for name, action := range want {
		ch, ok := findChangeIn(bucketPlan(t, &p, name), settings.Versioning)
		if !ok || ch.Action.String() != action {
			t.Errorf("%s: versioning %+v, want %s", name, ch, action)
		}
		if name == "ver-mfa" && !strings.Contains(ch.HeldBack, "MFA delete") {
			t.Errorf("ver-mfa: held back %q, want MFA delete named", ch.HeldBack)
		}
	}
	r = runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal, "--allow-impact")
	if r.code != 1 { // ver-mfa's versioning is held back: the run is not complete
		t.Errorf("apply exited %d, want 1 (a held-back change)\n%s", r.code, r.stderr)
	}
	snap := srv.Snapshot()
	for name, status := range map[string]string{"modern-default": "Enabled", "ver-suspended": "Enabled", "ver-mfa": "Suspended", "compliant-high": "Enabled"} {
		if got := snap.Buckets[name].Versioning; got != status {
			t.Errorf("%s after apply: versioning %q, want %q", name, got, status)
		}
	}
	for _, c := range srv.WriteCalls() {
		if c.Operation == "PutBucketVersioning" && (c.Bucket == "ver-mfa" || c.Bucket == "compliant-high") {
			t.Errorf("apply wrote versioning of %s", c.Bucket)
		}
	}
	if r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "rb.jsonl")); r.code != 0 {
		t.Fatalf("rollback: %d %s", r.code, r.stderr)
	}
	snap = srv.Snapshot()
	for name, status := range map[string]string{"modern-default": "Suspended", "ver-suspended": "Suspended", "ver-mfa": "Suspended", "compliant-high": "Enabled"} {
		if got := snap.Buckets[name].Versioning; got != status {
			t.Errorf("%s after rollback: versioning %q, want %q", name, got, status)
		}
	}
}

// TestDirectoryBucketEndToEnd: a directory bucket is listed (by
// ListDirectoryBuckets: ListBuckets does not show it), judged only on its
// default encryption, and never written, by plan or apply.
func TestDirectoryBucketEndToEnd(t *testing.T) {
	srv := coverageScenario(t)
	const dir = "scratch--use1-az4--x-s3"
	r := runCLI(t, "plan", "--config", configFile(t, coverageConfig), "--endpoint-url", srv.URL(), "--json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan (exit %d): %v\n%s", r.code, err, r.stderr)
	}
	b := bucketPlan(t, &p, dir)
	if !b.Directory || len(b.Changes) != 0 || len(b.Errors) != 0 {
		t.Errorf("directory bucket plan %+v: want directory, no change, no error", b)
	}
	if len(b.Findings) != 1 || b.Findings[0].Control != settings.DefaultEncryption || !strings.Contains(b.Findings[0].Detail, "wants SSE-KMS") {
		t.Errorf("findings %+v, want default_encryption's (SSE-S3 where high wants SSE-KMS)", b.Findings)
	}
	// The account controls act on general purpose buckets: a directory
	// bucket has no data events selector or account BPA of theirs to take.
	for _, c := range p.AccountChanges {
		if strings.Contains(string(c.Before)+string(c.After)+c.Reason+strings.Join(c.Impact, " "), dir) {
			t.Errorf("account change %s names the directory bucket: %s", c.Control, c.After)
		}
	}
	for _, w := range p.Warnings {
		if strings.Contains(w, dir) {
			t.Errorf("account warning names the directory bucket: %s", w)
		}
	}
	runCLI(t, "apply", "--config", configFile(t, coverageConfig), "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
		"--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	read := false
	for _, c := range srv.Calls() {
		read = read || (c.Bucket == dir && c.Operation == "GetBucketEncryption")
		if c.Bucket == dir && !strings.HasPrefix(c.Operation, "Get") && !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Head") {
			t.Errorf("apply sent %s to the directory bucket (%d)", c.Operation, c.Status)
		}
		if c.Bucket == dir && c.Status == 501 {
			t.Errorf("%s on the directory bucket is not supported there (501)", c.Operation)
		}
	}
	if !read {
		t.Error("the emulator saw no GetBucketEncryption of the directory bucket: the call log does not see directory buckets")
	}
}

func findChangeIn(b plan.BucketPlan, id settings.ControlID) (plan.Change, bool) {
	for _, c := range b.Changes {
		if c.Control == id {
			return c, true
		}
	}
	return plan.Change{}, false
}
