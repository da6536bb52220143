package main

// End-to-end tests of apply and rollback: the real CLI, the real provider,
// the real SDK over HTTP, the emulator's state compared before and after.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

func applyConfig() string { return filepath.Join(repoTestdata, "apply.yaml") }

// comparable is the emulator's state with the one difference AWS itself
// cannot undo written out: a legacy bucket's missing default encryption
// comes back as SSE-S3, because since 2023 every bucket has it and nothing
// can remove it (aws-semantics §3); rollback writes it without an SSE-C
// block, as the bucket was without a rule.
func comparable(s emulator.Snapshot) emulator.Snapshot {
	for name, b := range s.Buckets {
		if b.Encryption == nil {
			b.Encryption = &emulator.Encryption{Algorithm: "AES256"}
		}
		// S3 cannot take versioning back to "never enabled": rollback
		// suspends it, which is as off as S3 allows.
		if b.Versioning == "" {
			b.Versioning = "Suspended"
		}
		s.Buckets[name] = b
	}
	return s
}

func writeOps(srv *emulator.Server) []string {
	var ops []string
	for _, c := range srv.WriteCalls() {
		ops = append(ops, c.Operation+" "+c.Bucket)
	}
	return ops
}

// TestApplyConverges: one apply converges, keeps everything of anyone
// else's, and a second apply writes nothing.
func TestApplyConverges(t *testing.T) {
	srv := startEmulator(t, "e2e")
	before := srv.Snapshot()
	journal := filepath.Join(t.TempDir(), "journal.jsonl")

	r := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal, "--allow-impact")
	if r.code != 0 {
		t.Fatalf("apply exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// One apply converges.
	again := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--detailed-exitcode")
	if again.code != 0 {
		t.Fatalf("plan after apply exited %d (want 0: no changes)\n%s%s", again.code, again.stdout, again.stderr)
	}

	// Nothing of anyone else's is lost.
	after := srv.Snapshot()
	for _, bucket := range []string{"shared-data", "partner-exchange"} {
		b, a := before.Buckets[bucket], after.Buckets[bucket]
		for _, st := range foreignStatements(t, b.Policy) {
			if !containsStatement(t, a.Policy, st) {
				t.Errorf("%s: foreign statement lost or changed: %s\npolicy now: %s", bucket, st, a.Policy)
			}
		}
		if !a.Notifications.EventBridge {
			t.Errorf("%s: EventBridge setting lost", bucket)
		}
		for _, e := range b.Notifications.Entries {
			if !slicesContainsJSON(a.Notifications.Entries, e) {
				t.Errorf("%s: notification %+v lost or changed; now %+v", bucket, e, a.Notifications.Entries)
			}
		}
	}
	if n := len(after.Buckets["partner-exchange"].Notifications.Entries); n != 2 {
		t.Errorf("partner-exchange: %d notification entries, want the foreign queue and ours", n)
	}

	// A second apply makes no write at all.
	before2 := len(srv.WriteCalls())
	second := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "j2.jsonl"))
	if second.code != 0 || !strings.Contains(second.stdout, "No changes") {
		t.Errorf("second apply exited %d:\n%s%s", second.code, second.stdout, second.stderr)
	}
	if writes := writeOps(srv)[before2:]; len(writes) != 0 {
		t.Errorf("second apply wrote %v", writes)
	}
}

func foreignStatements(t *testing.T, raw string) []string {
	t.Helper()
	if raw == "" {
		return nil
	}
	doc, err := settings.ParsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range doc.Foreign() {
		out = append(out, string(s.Raw))
	}
	return out
}

func containsStatement(t *testing.T, raw, statement string) bool {
	t.Helper()
	want, err := settings.ParseStatement(json.RawMessage(statement))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := settings.ParsePolicy(raw)
	if err != nil {
		return false
	}
	for _, s := range doc.Statements {
		if s.Sid == want.Sid && s.Equivalent(want) {
			return true
		}
	}
	return false
}

func slicesContainsJSON[T any](list []T, v T) bool {
	want, _ := json.Marshal(v)
	for _, e := range list {
		got, _ := json.Marshal(e)
		if string(got) == string(want) {
			return true
		}
	}
	return false
}

// TestApplyRefusesOverlap: where S3 would refuse our notification (the
// bucket's own queue overlaps it), apply holds that control back before the
// first write, says why, leaves the notification configuration exactly as
// it was, and applies the bucket's other controls and the other buckets.
func TestApplyRefusesOverlap(t *testing.T) {
	srv := startEmulator(t, "e2e")
	before := srv.Snapshot()
	r := runCLI(t, "apply", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--auto-approve",
		"--journal", filepath.Join(t.TempDir(), "j.jsonl"), "--bucket", "shared-data", "--bucket", "modern-default")
	if r.code != 1 {
		t.Fatalf("apply exited %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !containsAll(r.stderr, `bucket "shared-data" (eu-west-1): event_notifications held back`, "overlap") {
		t.Errorf("stderr does not name the held-back control and why: %q", r.stderr)
	}
	after := srv.Snapshot()
	if diff := cmp.Diff(before.Buckets["shared-data"].Notifications, after.Buckets["shared-data"].Notifications); diff != "" {
		t.Errorf("shared-data's notifications changed (-before +after):\n%s", diff)
	}
	if after.Buckets["shared-data"].Logging == nil {
		t.Errorf("shared-data's other controls were not applied")
	}
	if cmp.Equal(before.Buckets["modern-default"], after.Buckets["modern-default"]) {
		t.Errorf("modern-default was not applied: one held-back control must not stop the others")
	}
}

// TestApplyStale: a bucket whose policy changed behind the tool's back
// after the plan was saved: the policy and what was judged from it are
// stale, named, and left exactly as they are; the rest applies.
func TestApplyStale(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if r := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--out", planFile); r.code != 0 {
		t.Fatalf("plan: %s", r.stderr)
	}
	behindBack := `{"Version":"2012-10-17","Statement":[{"Sid":"Vendor","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Vendor"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::modern-default/*"}]}`
	if err := srv.SetBucketPolicy("modern-default", behindBack); err != nil {
		t.Fatal(err)
	}
	staleBefore := srv.Snapshot().Buckets["modern-default"]

	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--journal", filepath.Join(dir, "j.jsonl"), "--allow-impact")
	if r.code != 1 {
		t.Fatalf("apply of a plan with a stale bucket exited %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !containsAll(r.stderr, `bucket "modern-default" (us-east-1): tls_only, admin_policy_lock: stale`, `bucket "modern-default" (us-east-1): default_encryption: stale`) {
		t.Errorf("stderr does not name the stale controls: %q", r.stderr)
	}
	after := srv.Snapshot().Buckets["modern-default"]
	if after.Policy != behindBack || !equalJSON(after.Encryption, staleBefore.Encryption) {
		t.Errorf("the stale controls were touched: policy %s encryption %+v", after.Policy, after.Encryption)
	}
	if after.Logging == nil {
		t.Errorf("modern-default's logging, not judged from the policy, was not applied")
	}
	if srv.Snapshot().Buckets["legacy-archive"].PublicAccessBlock == nil {
		t.Errorf("legacy-archive was not applied: the stale bucket must not stop the others")
	}
}

// TestApplyRollback: apply, then rollback of its journal, gives every
// bucket, topic and key the state it had before (resources the tool
// created are listed, not deleted; the scenario needs none).
func TestApplyRollback(t *testing.T) {
	srv := startEmulator(t, "e2e")
	before := comparable(srv.Snapshot())
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	if r := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal, "--allow-impact"); r.code != 0 {
		t.Fatalf("apply exited %d: %s", r.code, r.stderr)
	}
	if cmp.Equal(before, comparable(srv.Snapshot())) {
		t.Fatal("apply changed nothing: the rollback test would prove nothing")
	}
	r := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "rb.jsonl"))
	if r.code != 0 {
		t.Fatalf("rollback exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	after := comparable(srv.Snapshot())
	// The trail's bucket and key did not exist: apply created them, and
	// rollback, which never deletes, leaves them, their settings rolled
	// back. Everything else is as it was.
	created := withoutCreated(t, journal, &after)
	if want := []string{"bucket s3baseline-cloudtrail-123456789012", "key alias/s3baseline-cloudtrail"}; !cmp.Equal(want, created) {
		t.Errorf("created and left in place: %q, want %q", created, want)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("state after rollback differs from before apply (-before +after):\n%s", diff)
	}
}

// withoutCreated removes from a snapshot the resources a journal records as
// created by the tool, and names them.
func withoutCreated(t *testing.T, journal string, s *emulator.Snapshot) []string {
	t.Helper()
	return withoutCreatedOf(t, journal, "", s)
}

// withoutCreatedOf is withoutCreated of account's records alone ("": all).
func withoutCreatedOf(t *testing.T, journal, account string, s *emulator.Snapshot) []string {
	t.Helper()
	recs, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	return dropCreated(recs, account, s)
}

// dropCreated is withoutCreatedOf of records read already.
func dropCreated(recs []apply.Record, account string, s *emulator.Snapshot) []string {
	var names []string
	for _, r := range recs {
		if r.Status != apply.RecordCreated || account != "" && r.Account != account {
			continue
		}
		switch r.Kind {
		case apply.KindBucket:
			delete(s.Buckets, r.Bucket)
			s.BucketList = slices.DeleteFunc(s.BucketList, func(n string) bool { return n == r.Bucket })
			names = append(names, "bucket "+r.Bucket)
		case apply.KindKey:
			delete(s.KMSKeys, r.Target)
			for alias, key := range s.KMSAliases {
				if key == r.Target {
					delete(s.KMSAliases, alias)
					names = append(names, "key "+alias[strings.Index(alias, ":alias/")+1:])
				}
			}
		default:
			names = append(names, r.Kind+" "+r.Target)
		}
	}
	slices.Sort(names)
	return names
}

// TestApplyCrashSafety: the emulator fails every write after the Nth, as
// if the run died there. The journal it left is enough for rollback to
// restore everything, and a re-run of apply finishes the work.
func TestApplyCrashSafety(t *testing.T) {
	// 403s fail at once, like credentials that expire mid-run; 500s are
	// retried first, like an outage. Either way the run stops half-way.
	faults := map[string]emulator.Fault{
		"credentials expire after 1 write": {WritesOnly: true, After: 1, Status: 403, Code: "AccessDenied", Message: "The security token included in the request is expired"},
		"outage after 7 writes":            {WritesOnly: true, After: 7, Status: 500, Code: "InternalError", Message: "We encountered an internal error. Please try again."},
		"credentials expire after 20":      {WritesOnly: true, After: 20, Status: 403, Code: "AccessDenied", Message: "The security token included in the request is expired"},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			srv := startEmulator(t, "e2e")
			// The injected 500s are retryable; two attempts keep the test
			// quick without changing what it proves.
			t.Setenv("AWS_MAX_ATTEMPTS", "2")
			before := comparable(srv.Snapshot())
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			srv.InjectFault(fault)
			r := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journal, "--concurrency", "4", "--allow-impact")
			if r.code != 1 {
				t.Fatalf("apply under failing writes exited %d, want 1\n%s", r.code, r.stderr)
			}
			srv.ClearFaults()

			rb := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "rb.jsonl"))
			if rb.code != 0 {
				t.Fatalf("rollback exited %d\n%s%s", rb.code, rb.stdout, rb.stderr)
			}
			if diff := cmp.Diff(before, comparable(srv.Snapshot())); diff != "" {
				t.Errorf("state after rollback of a crashed apply differs (-before +after):\n%s", diff)
			}

			rerun := runCLI(t, "apply", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(t.TempDir(), "j2.jsonl"), "--allow-impact")
			if rerun.code != 0 {
				t.Fatalf("re-run of apply exited %d: %s", rerun.code, rerun.stderr)
			}
			if p := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--detailed-exitcode"); p.code != 0 {
				t.Errorf("after the re-run plan exited %d, want 0\n%s", p.code, p.stdout)
			}
		})
	}
}

// TestApplyLockOut: with the caller's own role among the admin-lock
// principals, the plan holds the lock back and says why, and apply adds no
// admin-lock statement (TestHoldBackOneControl checks the rest is applied).
func TestApplyLockOut(t *testing.T) {
	srv := startEmulator(t, "e2e")
	cfg := filepath.Join(t.TempDir(), "lockout.yaml")
	body := "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::123456789012:role/LegacyFullAdmin\", \"arn:aws:iam::123456789012:role/Ops\"]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--bucket", "modern-default", "--detailed-exitcode")
	if p.code != 2 || !containsAll(p.stdout, "admin_policy_lock", "held back: the caller", "would name s3baseline itself") {
		t.Errorf("plan with the caller among the principals: exit %d, stdout %q", p.code, p.stdout)
	}
	r := runCLI(t, "apply", "--config", cfg, "--endpoint-url", srv.URL(), "--bucket", "modern-default", "--auto-approve", "--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	if r.code != 1 {
		t.Errorf("apply exited %d, want 1", r.code)
	}
	if pol := srv.Snapshot().Buckets["modern-default"].Policy; strings.Contains(pol, settings.SidDenyAdminPolicyChanges) {
		t.Errorf("apply added the admin lock that denies its own caller: %s", pol)
	}
}

// TestApplyOneBucketDenied: AccessDenied on one bucket's writes does not
// stop the others, and the error line names bucket, region, control and
// the AWS error code.
func TestApplyOneBucketDenied(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if r := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--out", planFile); r.code != 0 {
		t.Fatalf("plan: %s", r.stderr)
	}
	srv.InjectFault(emulator.Fault{Bucket: "legacy-archive", WritesOnly: true, Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--journal", filepath.Join(dir, "j.jsonl"), "--allow-impact")
	if r.code != 1 {
		t.Fatalf("apply exited %d, want 1\n%s", r.code, r.stderr)
	}
	line := stderrLine(r.stderr, `bucket "legacy-archive"`, "block_sse_c", "AccessDenied")
	if !containsAll(line, `bucket "legacy-archive" (us-east-1)`, "put bucket encryption", "AccessDenied") {
		t.Errorf("error line %q must name bucket, region, control and code\nstderr: %s", line, r.stderr)
	}
	if srv.Snapshot().Buckets["modern-default"].Policy == "" {
		t.Errorf("modern-default was not applied: one denied bucket must not stop the others")
	}
}
