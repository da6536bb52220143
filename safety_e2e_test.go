package main

// End-to-end tests of the safety promises that need a precise moment: a
// foreign write landing between apply's observation and its write, an old
// saved plan applied after a newer apply, a rollback after someone else's
// change, and one control that cannot be applied while the others can.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

// savePlan plans with config and saves it.
func savePlan(t *testing.T, srv *emulator.Server, config string, extra ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.json")
	args := append([]string{"plan", "--config", config, "--endpoint-url", srv.URL(), "--out", path}, extra...)
	if r := runCLI(t, args...); r.code == 1 && !strings.Contains(r.stderr, "bucket") {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	return path
}

func configFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s3baseline.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func stderrLine(stderr string, parts ...string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if containsAll(l, parts...) {
			return l
		}
	}
	return ""
}

// TestForeignWriteBetweenObserveAndWrite: a foreign write to the bucket's
// encryption lands after apply re-observed the bucket and before it writes
// the rule (an emulator hook after apply's read of it). The write is not
// made over it: the control is stale, named, and the rest of the bucket is
// applied.
func TestForeignWriteBetweenObserveAndWrite(t *testing.T) {
	srv := startEmulator(t, "e2e")
	planFile := savePlan(t, srv, applyConfig())
	foreign := &emulator.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"}
	srv.OnRequest(emulator.Hook{Service: "s3", Operation: "GetBucketEncryption", Bucket: "modern-default", After: 1, Times: 1,
		Do: func(s *emulator.Server) {
			if err := s.SetEncryption("modern-default", foreign); err != nil {
				t.Error(err)
			}
		}})
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--journal", journal)
	if r.code != 1 {
		t.Fatalf("apply exited %d, want 1 (a stale control)\n%s", r.code, r.stderr)
	}
	if l := stderrLine(r.stderr, `bucket "modern-default"`, "default_encryption", "stale"); l == "" {
		t.Errorf("stderr does not name the stale control:\n%s", r.stderr)
	}
	got := srv.Snapshot().Buckets["modern-default"]
	if got.Encryption == nil || got.Encryption.Algorithm != foreign.Algorithm || got.Encryption.KMSKeyID != foreign.KMSKeyID {
		t.Errorf("the foreign encryption was overwritten: %+v", got.Encryption)
	}
	if !strings.Contains(got.Policy, settings.SidDenyInsecureTransport) || got.Logging == nil {
		t.Errorf("the bucket's other controls were not applied: policy %s logging %+v", got.Policy, got.Logging)
	}
	recs, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.Bucket == "modern-default" && rec.Aspect == string(settings.AspectEncryption) {
			t.Errorf("the journal records an encryption write to modern-default: %+v", rec)
		}
	}
}

// TestOldPlanCannotRevertNewerLock: a plan saved with role/OldAdmin in the
// lock, applied after a newer apply set role/NewAdmin, is stale on
// admin_policy_lock and leaves the newer statement in place.
func TestOldPlanCannotRevertNewerLock(t *testing.T) {
	srv := startEmulator(t, "e2e")
	lock := func(role string) string {
		return configFile(t, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::123456789012:role/"+role+"\"]\n"+
			"buckets:\n  - match: \"public-downloads-*\"\n    baseline: low\n    reason: public\n")
	}
	oldPlan := savePlan(t, srv, lock("OldAdmin"), "--bucket", "modern-default")
	newPlan := savePlan(t, srv, lock("NewAdmin"), "--bucket", "modern-default")
	runCLI(t, "apply", newPlan, "--endpoint-url", srv.URL(), "--journal", filepath.Join(t.TempDir(), "new.jsonl"))
	if pol := srv.Snapshot().Buckets["modern-default"].Policy; !strings.Contains(pol, "role/NewAdmin") {
		t.Fatalf("the newer apply did not set the NewAdmin lock: %s", pol)
	}
	r := runCLI(t, "apply", oldPlan, "--endpoint-url", srv.URL(), "--journal", filepath.Join(t.TempDir(), "old.jsonl"))
	if r.code != 1 || stderrLine(r.stderr, `bucket "modern-default"`, "admin_policy_lock", "stale") == "" {
		t.Errorf("the old plan: exit %d, want 1 naming admin_policy_lock stale\n%s", r.code, r.stderr)
	}
	pol := srv.Snapshot().Buckets["modern-default"].Policy
	if !strings.Contains(pol, "role/NewAdmin") || strings.Contains(pol, "role/OldAdmin") {
		t.Errorf("the old plan reverted the newer lock: %s", pol)
	}
}

// TestRollbackKeepsForeignEncryptionChange: after apply someone changes a
// bucket's encryption; rollback leaves that change in place and names it,
// and restores the rest.
func TestRollbackKeepsForeignEncryptionChange(t *testing.T) {
	srv := startEmulator(t, "e2e")
	before := srv.Snapshot()
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	// partner-exchange is read by another account: its KMS change is an
	// impact, allowed here so that there is an encryption write to undo.
	applyWith(t, srv, applyConfig(), journal, "--allow-impact")
	theirs := &emulator.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a"}
	if err := srv.SetEncryption("partner-exchange", theirs); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "rb.jsonl"))
	if r.code != 1 || stderrLine(r.stderr, `bucket "partner-exchange"`, "default encryption", "not restored") == "" {
		t.Errorf("rollback: exit %d, want 1 naming the encryption it left alone\n%s", r.code, r.stderr)
	}
	after := srv.Snapshot()
	if e := after.Buckets["partner-exchange"].Encryption; e == nil || e.Algorithm != theirs.Algorithm || e.KMSKeyID != theirs.KMSKeyID {
		t.Errorf("rollback overwrote the foreign encryption: %+v", e)
	}
	if b, a := before.Buckets["partner-exchange"].PublicAccessBlock, after.Buckets["partner-exchange"].PublicAccessBlock; !equalJSON(b, a) {
		t.Errorf("the rest of partner-exchange was not restored: Block Public Access %+v, was %+v", a, b)
	}
	if b, a := before.Buckets["modern-default"].Encryption, after.Buckets["modern-default"].Encryption; !equalJSON(b, a) {
		t.Errorf("modern-default's encryption was not restored: %+v, was %+v", a, b)
	}
	// --force restores it anyway.
	r = runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--force", "--journal", filepath.Join(t.TempDir(), "rb2.jsonl"))
	if r.code != 0 {
		t.Errorf("rollback --force exited %d: %s", r.code, r.stderr)
	}
	if b, a := before.Buckets["partner-exchange"].Encryption, srv.Snapshot().Buckets["partner-exchange"].Encryption; !equalJSON(b, a) {
		t.Errorf("rollback --force did not restore the encryption: %+v, was %+v", a, b)
	}
}

func applyWith(t *testing.T, srv *emulator.Server, config, journal string, extra ...string) result {
	t.Helper()
	args := append([]string{"apply", "--config", config, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal}, extra...)
	return runCLI(t, args...)
}

// TestHoldBackOneControl: with the caller among the admin principals only
// admin_policy_lock is held back, with its reason, and every other control
// of the bucket is applied; likewise an overlapping foreign notification
// holds back event_notifications alone.
func TestHoldBackOneControl(t *testing.T) {
	t.Run("lock-out", func(t *testing.T) {
		srv := startEmulator(t, "e2e")
		cfg := configFile(t, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::123456789012:role/LegacyFullAdmin\", \"arn:aws:iam::123456789012:role/Ops\"]\n")
		r := applyWith(t, srv, cfg, filepath.Join(t.TempDir(), "j.jsonl"), "--bucket", "modern-default")
		if r.code != 1 || stderrLine(r.stderr, `bucket "modern-default"`, "admin_policy_lock held back", "the caller") == "" {
			t.Errorf("apply: exit %d, want 1 naming admin_policy_lock and why\n%s", r.code, r.stderr)
		}
		b := srv.Snapshot().Buckets["modern-default"]
		if strings.Contains(b.Policy, settings.SidDenyAdminPolicyChanges) {
			t.Errorf("the lock that denies the caller was written: %s", b.Policy)
		}
		if !strings.Contains(b.Policy, settings.SidDenyInsecureTransport) || b.Logging == nil || b.Encryption == nil || b.Encryption.Algorithm != "aws:kms" {
			t.Errorf("the other controls were not applied: %+v", b)
		}
		p := planDoc2(t, srv, cfg)
		for _, c := range bucketPlan(t, p, "modern-default").Changes {
			if c.Action.String() != "no-op" && c.Control != settings.AdminPolicyLock {
				t.Errorf("still pending after apply: %s (%s)", c.Control, c.Reason)
			}
		}
	})
	t.Run("overlap", func(t *testing.T) {
		srv := startEmulator(t, "e2e")
		r := applyWith(t, srv, filepath.Join(repoTestdata, "e2e.yaml"), filepath.Join(t.TempDir(), "j.jsonl"), "--bucket", "shared-data")
		if r.code != 1 || stderrLine(r.stderr, `bucket "shared-data"`, "event_notifications held back", "overlaps") == "" {
			t.Errorf("apply: exit %d, want 1 naming event_notifications and the overlap\n%s", r.code, r.stderr)
		}
		b := srv.Snapshot().Buckets["shared-data"]
		for _, e := range b.Notifications.Entries {
			if e.ID == settings.NotificationID {
				t.Errorf("our notification was written over an overlap: %+v", b.Notifications)
			}
		}
		if !strings.Contains(b.Policy, settings.SidDenyInsecureTransport) || b.Logging == nil {
			t.Errorf("the other controls were not applied: policy %s logging %+v", b.Policy, b.Logging)
		}
	})
}

// TestCreatedCompliant: in every combination of the create_* switches (a
// switch on with nothing to find, so the tool creates it; off with the
// resource there, so the tool must use it), one apply converges and what
// the tool created has no change at all in the next plan: the log buckets
// and the trail's bucket are created with the key, topic and target the
// rest of the run resolved.
func TestCreatedCompliant(t *testing.T) {
	for _, createKey := range []bool{false, true} {
		for _, createTarget := range []bool{false, true} {
			for _, createTopic := range []bool{false, true} {
				name := fmt.Sprintf("key=%v,target=%v,topic=%v", createKey, createTarget, createTopic)
				t.Run(name, func(t *testing.T) {
					srv := startScenario(t, func(sc *emulator.Scenario) {
						if createKey {
							sc.KMSKeys = nil
						}
						if createTarget {
							sc.Buckets = slices.DeleteFunc(sc.Buckets, func(b emulator.Bucket) bool {
								return strings.HasPrefix(b.Name, "s3baseline-logs-")
							})
						}
						if createTopic {
							sc.SNSTopics = nil
						}
					})
					before := srv.Snapshot()
					cfg := configFile(t, fmt.Sprintf(`baseline: high
settings:
  encryption:
    kms_key: "alias/s3baseline"
    create_key: %v
  logging:
    create_target: %v
  notifications:
    topic: "s3baseline-events"
    create_topic: %v
  admin_lock:
    deny: ["arn:aws:iam::123456789012:role/LegacyFullAdmin"]
buckets:
  - match: "public-downloads-*"
    baseline: low
    reason: "public download site"
  - match: "shared-data"
    exempt: [event_notifications]
    reason: "the ingest queue overlaps"
`, createKey, createTarget, createTopic))
					r := applyWith(t, srv, cfg, filepath.Join(t.TempDir(), "j.jsonl"), "--allow-impact")
					if strings.Contains(r.stderr, "does not exist") || strings.Contains(r.stderr, "not found") {
						t.Fatalf("apply could not find a resource it resolved or created:\n%s", r.stderr)
					}
					p := planDoc2(t, srv, cfg)
					if len(p.Errors) > 0 {
						t.Fatalf("plan after apply has account errors: %v", p.Errors)
					}
					for _, b := range p.Buckets {
						_, existed := before.Buckets[b.Name]
						if len(b.Errors) > 0 {
							t.Errorf("%s: plan errors after apply: %v", b.Name, b.Errors)
						}
						for _, c := range b.Changes {
							if c.Action.String() == "no-op" {
								continue
							}
							if !existed || c.HeldBack == "" {
								t.Errorf("%s (created: %v): still pending after one apply: %s (%s)\napply stderr:\n%s",
									b.Name, !existed, c.Control, c.Reason, r.stderr)
							}
						}
					}
					for _, c := range p.AccountChanges {
						if c.Action.String() != "no-op" && c.HeldBack == "" {
							t.Errorf("account: still pending after one apply: %s (%s)", c.Control, c.Reason)
						}
					}
					created := 0
					for name := range srv.Snapshot().Buckets {
						if _, ok := before.Buckets[name]; !ok {
							created++
						}
					}
					after := srv.Snapshot()
					for _, region := range []string{"us-east-1", "eu-west-1"} {
						alias := "arn:aws:kms:" + region + ":123456789012:alias/s3baseline"
						topic := "arn:aws:sns:" + region + ":123456789012:s3baseline-events"
						if _, ok := after.KMSAliases[alias]; !ok {
							t.Errorf("%s: no alias/s3baseline after apply (create_key %v)", region, createKey)
						}
						if _, ok := after.Topics[topic]; !ok {
							t.Errorf("%s: no topic after apply (create_topic %v)", region, createTopic)
						}
					}
					if want := map[bool]int{false: 1, true: 3}[createTarget]; created != want {
						t.Errorf("%d buckets created, want %d (the trail's and, with create_target, the log buckets)", created, want)
					}
				})
			}
		}
	}
}

func equalJSON(a, b any) bool { return dump(a) == dump(b) }
