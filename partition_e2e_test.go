package main

// The aws-us-gov partition end to end: every ARN the tool writes is built
// in the caller's partition, which the emulator checks as GovCloud does
// (a policy naming arn:aws: resources is refused there), and the admin
// lock's guard knows a GovCloud caller.

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
)

const (
	govAccount = "123456789012"
	govCaller  = "arn:aws-us-gov:sts::123456789012:assumed-role/Ops/alice"
)

func govScenario() *emulator.Scenario {
	return &emulator.Scenario{
		AccountID: govAccount, Partition: "aws-us-gov", CallerARN: govCaller,
		Buckets: []emulator.Bucket{
			{Name: "gov-legacy", Region: "us-gov-west-1", CreationDate: "2019-05-01T00:00:00Z", Legacy: true},
			{Name: "gov-modern", Region: "us-gov-east-1", CreationDate: "2024-05-01T00:00:00Z"},
		},
	}
}

const govConfig = `baseline: high
settings:
  admin_lock:
    deny: ["arn:{partition}:iam::{account}:role/LegacyFullAdmin"]
  cloudtrail:
    region: us-gov-west-1
`

func TestGovCloudPlanApplyRollback(t *testing.T) {
	srv := startWith(t, govScenario(), emulator.Options{})
	t.Setenv("AWS_REGION", "us-gov-west-1")
	before := srv.Snapshot()
	cfg := configFile(t, govConfig)
	dir := t.TempDir()
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--out", planFile)
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, "show", planFile)
	for _, want := range []string{"arn:aws-us-gov:s3:::gov-legacy", "arn:aws-us-gov:iam::123456789012:role/LegacyFullAdmin", "arn:aws-us-gov:sns:us-gov-west-1:123456789012:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not name %s", want)
		}
	}
	if strings.Contains(r.stdout, "arn:aws:") {
		t.Errorf("the plan names an arn:aws: ARN in GovCloud:\n%s", r.stdout)
	}
	r = runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal, "--allow-impact")
	if r.code != 0 {
		t.Fatalf("apply exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := srv.Snapshot()
	for _, name := range []string{"gov-legacy", "gov-modern"} {
		b := after.Buckets[name]
		if !strings.Contains(b.Policy, "arn:aws-us-gov:s3:::"+name) || strings.Contains(b.Policy, "arn:aws:") {
			t.Errorf("%s policy is not GovCloud's: %s", name, b.Policy)
		}
		if b.Versioning != "Enabled" || b.Logging == nil || b.Encryption == nil || b.Encryption.Algorithm != "aws:kms" {
			t.Errorf("%s not brought to high: %+v", name, b)
		}
	}
	var trail bool
	for arn := range after.Trails {
		trail = trail || strings.HasPrefix(arn, "arn:aws-us-gov:cloudtrail:us-gov-west-1:")
	}
	if !trail {
		t.Errorf("no GovCloud trail after apply: %v", after.Trails)
	}
	if r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--detailed-exitcode"); r.code != 0 {
		t.Errorf("a second plan is not empty (exit %d):\n%s", r.code, r.stdout)
	}
	if r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "rb.jsonl")); r.code != 0 {
		t.Fatalf("rollback exited %d: %s", r.code, r.stderr)
	}
	restored := srv.Snapshot()
	for name, b := range before.Buckets {
		if a := restored.Buckets[name]; a.Policy != b.Policy || a.Logging != nil {
			t.Errorf("%s not restored: policy %q logging %+v", name, a.Policy, a.Logging)
		}
	}
}

// TestGovCloudLockOutGuard: a GovCloud caller's own role among the denied
// principals is held back, as in the aws partition.
func TestGovCloudLockOutGuard(t *testing.T) {
	srv := startWith(t, govScenario(), emulator.Options{})
	t.Setenv("AWS_REGION", "us-gov-west-1")
	cfg := configFile(t, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws-us-gov:iam::{account}:role/Ops\"]\n  cloudtrail:\n    region: us-gov-west-1\n")
	r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--bucket", "gov-modern")
	if !strings.Contains(r.stdout, "held back: the caller "+govCaller+" is among settings.admin_lock.deny") {
		t.Errorf("exit %d, the GovCloud caller's role is not held back:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
