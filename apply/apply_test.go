package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-multierror"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// refused are the buckets of the e2e scenario with a change apply cannot
// make: shared-data's queue notification overlaps ours, so its
// event_notifications is held back (the rest of the bucket is applied).
var refused = []string{"shared-data"}

// allowImpact applies what has an impact too.
func allowImpact(o *apply.Options) { o.AllowImpact = true }

// sameAsBefore compares two snapshots, allowing the one difference AWS
// imposes: a legacy bucket's unset default encryption cannot come back
// (since 2023 S3 resets it to SSE-S3, with whatever it then says of SSE-C),
// so rollback leaves SSE-S3 there; and versioning, once enabled, can only
// be suspended, never returned to "never enabled".
func sameAsBefore(t *testing.T, before, after emulator.Snapshot) {
	t.Helper()
	for name, b := range before.Buckets {
		if a, ok := after.Buckets[name]; ok {
			after.Buckets[name] = asRestorable(b, a)
		}
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("state after rollback differs from before apply (-before +after):\n%s", diff)
	}
}

// asRestorable is a bucket's state after rollback with the differences
// S3 itself cannot undo erased: an unset default encryption comes back as
// SSE-S3, and versioning that was never enabled comes back Suspended.
func asRestorable(before, after emulator.BucketSnapshot) emulator.BucketSnapshot {
	if before.Encryption == nil && after.Encryption != nil && after.Encryption.Algorithm == "AES256" && after.Encryption.KMSKeyID == "" && !after.Encryption.BucketKeyEnabled {
		after.Encryption = nil
	}
	if before.Versioning == "" && after.Versioning == "Suspended" {
		after.Versioning = ""
	}
	return after
}

func TestApplyConvergesKeepsForeignAndRollsBack(t *testing.T) {
	e := start(t, nil)
	before := e.srv.Snapshot()
	beforeState := map[string]settings.BucketState{}
	for name, b := range before.Buckets {
		beforeState[name] = e.observe(name, b.Region)
	}
	p := e.plan()

	out, j, err := e.apply(p, allowImpact)
	got := byBucket(out)
	for _, b := range p.Buckets {
		o, ok := got[b.Name]
		if !ok {
			t.Errorf("no outcome for %s", b.Name)
			continue
		}
		want := apply.StatusApplied
		if !slices.Contains(pendingBuckets(p), b.Name) {
			want = apply.StatusUnchanged
		}
		if o.Status != want {
			t.Errorf("%s: status %s (err %v), want %s", b.Name, o.Status, o.Err, want)
		}
	}
	// The control that cannot be made: one error line naming bucket,
	// control and reason; the bucket's other controls are made.
	var me *multierror.Error
	if !errors.As(err, &me) || len(flatten(me)) != 1 {
		t.Fatalf("err = %v, want one error (shared-data)", err)
	}
	if msg := flatten(me)[0].Error(); !strings.HasPrefix(msg, `bucket "shared-data" (eu-west-1): event_notifications held back: the existing queue notification "ingest"`) ||
		strings.Contains(msg, "\n") {
		t.Errorf("shared-data error = %q", msg)
	}
	if o := got["shared-data"]; !slices.Equal(o.Held, []settings.ControlID{settings.EventNotifications}) || o.Writes == 0 {
		t.Errorf("shared-data: %+v, want event_notifications alone held back and the rest written", o)
	}
	for _, c := range e.srv.WriteCalls() {
		if c.Bucket == "shared-data" && c.Operation == "PutBucketNotificationConfiguration" {
			t.Errorf("the held-back notification was written: %+v", c)
		}
	}

	// Converged: a new plan has nothing to do but what is held back.
	p2 := e.plan()
	if pend := unapplied(p2, true); len(pend) > 0 {
		t.Errorf("after apply the plan still has changes for %v", pend)
	}
	if pend := pendingBuckets(p2); !slices.Equal(pend, refused) {
		t.Errorf("after apply the plan has changes for %v, want only %v", pend, refused)
	}

	// Everyone else's statements, entries and EventBridge survived, and
	// foreign statements byte for byte.
	for name, b := range beforeState {
		now := e.observe(name, b.Region)
		if b.Policy != nil {
			old, _ := settings.ParsePolicy(b.Policy.Raw)
			cur, err := settings.ParsePolicy(now.Policy.Raw)
			if err != nil {
				t.Fatalf("%s: policy after apply: %v", name, err)
			}
			if old.ID != cur.ID || old.Version != cur.Version {
				t.Errorf("%s: Version/Id %q/%q became %q/%q", name, old.Version, old.ID, cur.Version, cur.ID)
			}
			var oldRaw, curRaw []string
			for _, s := range old.Foreign() {
				oldRaw = append(oldRaw, string(s.Raw))
			}
			for _, s := range cur.Foreign() {
				curRaw = append(curRaw, string(s.Raw))
			}
			if diff := cmp.Diff(oldRaw, curRaw); diff != "" {
				t.Errorf("%s: foreign statements changed (-before +after):\n%s", name, diff)
			}
		}
		if b.Notifications != nil {
			if diff := cmp.Diff(b.Notifications.Foreign(), now.Notifications.Foreign()); diff != "" {
				t.Errorf("%s: foreign notifications changed (-before +after):\n%s", name, diff)
			}
			if b.Notifications.EventBridge && !now.Notifications.EventBridge {
				t.Errorf("%s: EventBridge was dropped", name)
			}
		}
	}
	if pe := e.observe("partner-exchange", "eu-west-1"); pe.Notifications == nil || !pe.Notifications.EventBridge || len(pe.Notifications.Entries) != 2 {
		t.Errorf("partner-exchange notifications after apply: %+v", pe.Notifications)
	}

	// A second apply of a fresh plan writes nothing at all.
	e.srv.ResetCalls()
	out2, _, _ := e.apply(p2)
	if w := e.srv.WriteCalls(); len(w) != 0 {
		t.Errorf("second apply made %d writes: %+v", len(w), w)
	}
	for _, o := range out2 {
		if o.Writes != 0 {
			t.Errorf("second apply: %s reports %d writes", o.Bucket, o.Writes)
		}
	}

	// Rollback restores the state before apply, byte for byte.
	if err := e.rollback(j.Path()); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	sameAsBefore(t, before, e.srv.Snapshot())
	for name, b := range beforeState {
		now := e.observe(name, b.Region)
		if name == "legacy-archive" {
			now.Encryption, b.Encryption = nil, nil
		}
		if b.Versioning == nil && now.Versioning != nil && now.Versioning.Status == settings.VersioningSuspended {
			now.Versioning = nil // S3 can only suspend versioning
		}
		if diff := cmp.Diff(b, now); diff != "" {
			t.Errorf("%s observed after rollback differs (-before +after):\n%s", name, diff)
		}
	}
	// And a second rollback has nothing left to do.
	e.srv.ResetCalls()
	if err := e.rollback(j.Path()); err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if w := e.srv.WriteCalls(); len(w) != 0 {
		t.Errorf("second rollback made %d writes: %+v", len(w), w)
	}
}

func TestApplyStaleControlsUntouched(t *testing.T) {
	e := start(t, nil)
	p := e.plan()

	// Behind the tool's back, after planning: someone adds a statement to
	// one bucket's policy and turns Block Public Access on for another.
	foreign := `{"Version":"2012-10-17","Statement":[{"Sid":"Someone","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/X"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::modern-default/*"}]}`
	if err := e.srv.SetBucketPolicy("modern-default", foreign); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetPublicAccessBlock("legacy-archive", true, false, false, false); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCalls()
	out, _, err := e.apply(p, allowImpact)
	got := byBucket(out)
	cases := map[string]struct {
		reason string
		stale  []settings.ControlID
		// untouched is the operation that must not be called on the bucket.
		untouched string
	}{
		"modern-default": {
			reason:    "its policy changed: the policy controls (compare and swap) and the controls judged from the policy (encryption: who reads the bucket) are stale",
			stale:     []settings.ControlID{settings.DefaultEncryption, settings.TLSOnly, settings.AdminPolicyLock},
			untouched: "PutBucketPolicy",
		},
		"legacy-archive": {
			reason:    "its Block Public Access changed: that control and the ones judged from it (encryption, the policy's refusal check) are stale",
			stale:     []settings.ControlID{settings.BlockPublicAccess, settings.DefaultEncryption, settings.TLSOnly, settings.AdminPolicyLock},
			untouched: "PutPublicAccessBlock",
		},
	}
	for name, tc := range cases {
		o := got[name]
		stale := slices.Sorted(slices.Values(o.Stale))
		want := slices.Sorted(slices.Values(tc.stale))
		if o.Status != apply.StatusStale || !errors.Is(o.Err, apply.ErrStale) || !slices.Equal(stale, want) {
			t.Errorf("%s: %s\nstatus %s stale %v err %v; want stale %v", name, tc.reason, o.Status, o.Stale, o.Err, want)
		}
		if len(o.Applied) == 0 {
			t.Errorf("%s: nothing applied; the controls not judged from the changed aspect go on", name)
		}
		for _, c := range e.srv.WriteCalls() {
			if c.Bucket == name && c.Operation == tc.untouched {
				t.Errorf("%s: %s was written over the foreign change", name, tc.untouched)
			}
		}
	}
	if got["analytics-old"].Status != apply.StatusApplied || got["analytics-events"].Status != apply.StatusApplied {
		t.Errorf("the other buckets were not applied: %+v", got)
	}
	if err == nil || !strings.Contains(err.Error(), `bucket "modern-default" (us-east-1): tls_only, admin_policy_lock: stale`) {
		t.Errorf("err = %v", err)
	}
	if txt, _ := e.srv.BucketPolicy("modern-default"); txt != foreign {
		t.Errorf("the stale bucket's policy changed: %s", txt)
	}
}

func TestApplyAccessDeniedOthersGoOn(t *testing.T) {
	e := start(t, nil)
	p := e.plan()
	e.srv.InjectFault(emulator.Fault{Bucket: "analytics-events", Operation: "PutBucketEncryption", Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	e.srv.ResetCalls()
	var last [3]int
	updates := 0
	out, _, err := e.apply(p, allowImpact, func(o *apply.Options) {
		o.Progress = func(done, total, errors int) { last = [3]int{done, total, errors}; updates++ }
	})
	var me *multierror.Error
	if !errors.As(err, &me) {
		t.Fatalf("Apply error %v, want a multierror", err)
	}
	if want := [3]int{len(p.Buckets), len(p.Buckets), len(me.Errors)}; last != want || updates != len(p.Buckets)+1 {
		t.Errorf("%d progress updates, the last %v; want %d, the last %v (every bucket error counted)", updates, last, len(p.Buckets)+1, want)
	}
	got := byBucket(out)
	o := got["analytics-events"]
	if o.Status != apply.StatusFailed || !slices.Contains(o.Failed, settings.DefaultEncryption) {
		t.Fatalf("analytics-events: %+v", o)
	}
	const want = `bucket "analytics-events" (eu-west-1): default_encryption: put bucket encryption: AccessDenied: Access Denied`
	if lines := flatten(o.Err); len(lines) != 1 || lines[0].Error() != want {
		t.Errorf("error = %q\nwant    %q", lines, want)
	}
	if code := apply.ErrorCode(o.Err); code != "AccessDenied" {
		t.Errorf("ErrorCode = %q", code)
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Apply error does not carry the line: %v", err)
	}
	// Hold back the least: the bucket's other documents are still written,
	// Block Public Access last.
	var ops []string
	for _, c := range e.srv.WriteCalls() {
		if c.Bucket == "analytics-events" && c.Status < 300 {
			ops = append(ops, c.Operation)
		}
	}
	if !slices.Contains(ops, "PutBucketPolicy") || !slices.Contains(ops, "PutBucketLogging") {
		t.Errorf("analytics-events: writes after the failed one %v, want the policy and logging written", ops)
	}
	for _, name := range []string{"analytics-old", "legacy-archive", "modern-default", "partner-exchange"} {
		if got[name].Status != apply.StatusApplied {
			t.Errorf("%s: %s %v, want applied", name, got[name].Status, got[name].Err)
		}
	}
}

// writeRecorder wraps the provider and checks, at every write, that the
// journal on disk already ends with the started record of that write.
type writeRecorder struct {
	apply.Provider
	t       *testing.T
	path    func() string
	mu      sync.Mutex
	checked int
}

func (w *writeRecorder) check(kind, bucket, aspect string) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	recs, err := apply.ReadJournal(w.path())
	if err != nil {
		w.t.Errorf("journal unreadable at a write: %v", err)
		return
	}
	// Buckets are written concurrently: the write's started record must
	// be on disk, with no end record yet.
	ended := map[int64]bool{}
	for _, r := range recs {
		if r.Started > 0 {
			ended[r.Started] = true
		}
	}
	for _, r := range slices.Backward(recs) {
		if r.Status == apply.RecordStarted && r.Kind == kind && r.Bucket == bucket && r.Aspect == aspect && !ended[r.Seq] {
			if len(r.Before) == 0 || len(r.After) == 0 {
				w.t.Errorf("started record %d has no before/after: %+v", r.Seq, r)
			}
			w.checked++
			return
		}
	}
	w.t.Errorf("write to %s %s %s made with no started record on disk", kind, bucket, aspect)
}

func (w *writeRecorder) PutPublicAccessBlock(ctx context.Context, ref settings.BucketRef, v *settings.PublicAccessBlock) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectPublicAccessBlock))
	return w.Provider.PutPublicAccessBlock(ctx, ref, v)
}

func (w *writeRecorder) PutOwnership(ctx context.Context, ref settings.BucketRef, v *settings.Ownership) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectOwnership))
	return w.Provider.PutOwnership(ctx, ref, v)
}

func (w *writeRecorder) PutEncryption(ctx context.Context, ref settings.BucketRef, v *settings.Encryption) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectEncryption))
	return w.Provider.PutEncryption(ctx, ref, v)
}

func (w *writeRecorder) PutLogging(ctx context.Context, ref settings.BucketRef, v *settings.Logging) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectLogging))
	return w.Provider.PutLogging(ctx, ref, v)
}

func (w *writeRecorder) PutPolicy(ctx context.Context, ref settings.BucketRef, v *settings.Policy) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectPolicy))
	return w.Provider.PutPolicy(ctx, ref, v)
}

func (w *writeRecorder) PutNotifications(ctx context.Context, ref settings.BucketRef, v *settings.Notifications) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectNotifications))
	return w.Provider.PutNotifications(ctx, ref, v)
}

func (w *writeRecorder) PutVersioning(ctx context.Context, ref settings.BucketRef, v *settings.VersioningConfig) error {
	w.check(apply.KindBucket, ref.Name, string(settings.AspectVersioning))
	return w.Provider.PutVersioning(ctx, ref, v)
}

func (w *writeRecorder) PutTopicPolicy(ctx context.Context, arn, policy string) error {
	w.check(apply.KindTopic, "", string(settings.AspectPolicy))
	return w.Provider.PutTopicPolicy(ctx, arn, policy)
}

func TestJournalSyncedBeforeEachWrite(t *testing.T) {
	e := start(t, nil)
	p := e.plan()
	var j *apply.Journal
	rec := &writeRecorder{Provider: e.prov, t: t, path: func() string { return j.Path() }}
	j = e.journal("journal.jsonl")
	out, err := apply.Apply(context.Background(), rec, p, apply.Options{Config: e.cfg, Journal: j})
	if err == nil {
		t.Log("no error: shared-data expected to be refused")
	}
	writes := 0
	for _, o := range out {
		writes += o.Writes
	}
	if rec.checked != writes || writes == 0 {
		t.Errorf("checked %d writes, outcomes report %d", rec.checked, writes)
	}
	recs, err := apply.ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	started, done := 0, 0
	for _, r := range recs {
		switch r.Status {
		case apply.RecordStarted:
			started++
			if r.Account != account {
				t.Errorf("record %d: account %q", r.Seq, r.Account)
			}
		case apply.RecordDone:
			done++
		}
	}
	if started != writes || done != writes {
		t.Errorf("journal: %d started, %d done, want %d each", started, done, writes)
	}
	fi, err := os.Stat(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestApplyHoldsBackImpact(t *testing.T) {
	sc := scenario(t)
	for i := range sc.Buckets {
		switch sc.Buckets[i].Name {
		case "modern-default":
			// Every change to a CloudFormation-managed bucket has impact.
			sc.Buckets[i].Tags = map[string]string{plan.CloudFormationStackTag: "web"}
		case "legacy-archive":
			// Block Public Access would cut off its website.
			sc.Buckets[i].Website = true
		}
	}
	e := start(t, sc)
	p := e.plan()
	impact := func(name string, c settings.ControlID) bool {
		for _, ch := range bucketPlan(t, p, name).Changes {
			if ch.Control == c {
				return len(ch.Impact) > 0
			}
		}
		return false
	}
	if !impact("modern-default", settings.DefaultEncryption) || !impact("legacy-archive", settings.BlockPublicAccess) || impact("legacy-archive", settings.AccessLogging) {
		t.Fatal("the plan does not mark the impact this test expects")
	}
	e.srv.ResetCalls()
	out, _, err := e.apply(p, func(o *apply.Options) { o.Concurrency = 4 })
	got := byBucket(out)
	pending := len(unapplied(&plan.Plan{AccountPlan: plan.AccountPlan{Buckets: []plan.BucketPlan{*bucketPlan(t, p, "modern-default")}}}, true))
	if o := got["modern-default"]; o.Status != apply.StatusSkipped || len(o.HeldBack) != pending || !strings.Contains(o.Err.Error(), "CloudFormation") {
		t.Errorf("modern-default: %+v, want all %d changes held back", o, pending)
	}
	if n := writesTo(e.srv.WriteCalls(), "modern-default"); n != 0 {
		t.Errorf("%d writes to a bucket whose changes were all held back", n)
	}
	o := got["legacy-archive"]
	if o.Status != apply.StatusApplied || !slices.Contains(o.Held, settings.BlockPublicAccess) || !slices.Contains(o.Applied, settings.AccessLogging) {
		t.Errorf("legacy-archive: %+v", o)
	}
	if i := slices.Index(o.Held, settings.BlockPublicAccess); i < 0 || !strings.Contains(o.HeldBack[i], "static website hosting") {
		t.Errorf("legacy-archive held back %q, want Block Public Access for its website", o.HeldBack)
	}
	for _, c := range e.srv.WriteCalls() {
		if c.Bucket == "legacy-archive" && strings.Contains(c.Operation, "PublicAccessBlock") {
			t.Errorf("held-back change written: %+v", c)
		}
	}
	// Held back is not complete: the run says so, one line per control.
	if err == nil || !strings.Contains(err.Error(), `bucket "legacy-archive" (us-east-1): block_public_access held back: `) {
		t.Errorf("the held-back controls are not named: %v", err)
	}

	out, _, _ = e.apply(e.plan(), allowImpact)
	got = byBucket(out)
	if o := got["modern-default"]; o.Status != apply.StatusApplied || o.Writes == 0 || len(o.HeldBack) != 0 {
		t.Errorf("with AllowImpact: %+v", o)
	}
	if pend := unapplied(e.plan(), true); len(pend) > 0 {
		t.Errorf("after apply with AllowImpact the plan still has changes %v", pend)
	}
}

func TestApplyRefusesBeforeFirstWrite(t *testing.T) {
	e := start(t, nil)

	// A foreign statement so large that adding ours passes AWS's limit.
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/X"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::analytics-old/` +
		strings.Repeat("x", settings.MaxPolicyBytes-300) + `"}]}`
	if err := e.srv.SetBucketPolicy("analytics-old", big); err != nil {
		t.Fatal(err)
	}
	p := e.plan()
	for _, c := range bucketPlan(t, p, "analytics-old").Changes {
		if (c.Control == settings.TLSOnly || c.Control == settings.AdminPolicyLock) && !strings.Contains(c.HeldBack, "over AWS's limit") {
			t.Errorf("analytics-old %s: the plan does not hold it back for the size: %+v", c.Control, c)
		}
	}
	// The admin lock of another bucket, edited to deny the caller's own
	// role: not what the tool plans, so the whole plan is refused before
	// the first write.
	mp := bucketPlan(t, p, "modern-default")
	for i, c := range mp.Changes {
		if c.Control == settings.AdminPolicyLock {
			mp.Changes[i].After = plan.AdminLockStatement("modern-default", plan.AdminLock{Principals: []string{"arn:aws:iam::123456789012:role/Ops"}})
		}
	}
	e.srv.ResetCalls()
	if _, _, err := e.apply(p, allowImpact); err == nil || !strings.Contains(err.Error(), `bucket "modern-default" admin_policy_lock: its after is not what the tool plans`) {
		t.Errorf("an edited admin lock was not refused: %v", err)
	}
	if w := e.srv.WriteCalls(); len(w) > 0 {
		t.Errorf("a refused plan wrote %d times: %+v", len(w), w[0])
	}
	p = e.plan()
	// A bucket the plan reports errors for still gets the changes the
	// plan has for it; the run reports the errors.
	ae := bucketPlan(t, p, "analytics-events")
	ae.Errors = append(ae.Errors, "default_encryption: describe KMS key: throttled")
	e.srv.ResetCalls()
	out, _, err := e.apply(p, allowImpact)
	got := byBucket(out)
	if o := got["analytics-events"]; !errors.Is(o.Err, apply.ErrPlanErrors) || o.Writes == 0 ||
		err == nil || !strings.Contains(err.Error(), `bucket "analytics-events" (eu-west-1): not all controls checked: the plan reports errors for this bucket (default_encryption: describe KMS key: throttled)`) {
		t.Errorf("analytics-events: %+v\nerr %v", o, err)
	}
	for name, want := range map[string]string{
		"analytics-old": `bucket "analytics-old" (us-east-1): tls_only held back: the merged policy would be`,
	} {
		o := got[name]
		if !slices.ContainsFunc(flatten(o.Err), func(e error) bool { return strings.HasPrefix(e.Error(), want) }) {
			t.Errorf("%s: %s %v\nwant a line starting %s", name, o.Status, o.Err, want)
		}
		if pol, _ := e.srv.BucketPolicy(name); strings.Contains(pol, "role/Ops") || (name == "analytics-old" && pol != big) {
			t.Errorf("%s: the refused statement was written: %s", name, pol)
		}
		if len(o.Applied) == 0 {
			t.Errorf("%s: nothing applied; only the refused controls are held back", name)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Apply error misses %s", name)
		}
	}
	if got["legacy-archive"].Status != apply.StatusApplied {
		t.Errorf("legacy-archive: %+v", got["legacy-archive"])
	}
}

// TestApplyTrustedPlansAgainAtTurn: a trusted plan (Options.Trusted: this
// process's own, or its signature verified) is not checked whole before
// the first write, but every bucket is still planned again right before
// its writes: a change that is not what the tool plans is stale and
// nothing is written to it, while the other buckets are applied.
func TestApplyTrustedPlansAgainAtTurn(t *testing.T) {
	e := start(t, nil)
	p := e.plan()
	mp := bucketPlan(t, p, "modern-default")
	edited := false
	for i, c := range mp.Changes {
		if c.Control == settings.AdminPolicyLock {
			mp.Changes[i].After = plan.AdminLockStatement("modern-default", plan.AdminLock{Principals: []string{"arn:aws:iam::123456789012:role/Ops"}})
			edited = true
		}
	}
	if !edited {
		t.Fatal("modern-default has no admin_policy_lock change to edit")
	}
	out, _, err := e.apply(p, allowImpact, func(o *apply.Options) { o.Trusted = true })
	var forged *plan.ForgeryError
	if errors.As(err, &forged) {
		t.Fatalf("a trusted plan was checked whole and refused: %v", err)
	}
	got := byBucket(out)
	if o := got["modern-default"]; !slices.Contains(o.Stale, settings.AdminPolicyLock) {
		t.Errorf("modern-default: %s, stale %v (%v): want admin_policy_lock stale", o.Status, o.Stale, o.Err)
	}
	// Its tls_only change, in the same policy document, is made; the
	// edited statement is not.
	if pol, _ := e.srv.BucketPolicy("modern-default"); strings.Contains(pol, settings.SidDenyAdminPolicyChanges) || !strings.Contains(pol, settings.SidDenyInsecureTransport) {
		t.Errorf("modern-default's policy: %s; want the TLS statement and no admin lock", pol)
	}
	if got["legacy-archive"].Status != apply.StatusApplied {
		t.Errorf("legacy-archive: %+v", got["legacy-archive"])
	}
}

// With a trusted plan (Options.Trusted) the buckets are planned again at
// their turn, after the run created the region's key for an earlier one:
// the key answers taken before the first write still judge them, so their
// changes, planned with the key missing, are not stale for it.
func TestApplyCreatesSharedResourcesOnce(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trust), func(t *testing.T) { createsSharedResourcesOnce(t, trust) })
	}
}

func createsSharedResourcesOnce(t *testing.T, trust bool) {
	sc := scenario(t)
	sc.KMSKeys, sc.SNSTopics = nil, nil
	sc.Buckets = slices.DeleteFunc(sc.Buckets, func(b emulator.Bucket) bool {
		return strings.HasPrefix(b.Name, "s3baseline-logs-")
	})
	e := start(t, sc)
	p := e.plan()
	before := e.srv.Snapshot()
	out, j, _ := e.apply(p, allowImpact, func(o *apply.Options) { o.Trusted = trust })
	got := byBucket(out)
	for _, name := range []string{"s3baseline-logs-123456789012-us-east-1", "s3baseline-logs-123456789012-eu-west-1"} {
		if o := got[name]; o.Status != apply.StatusApplied {
			t.Errorf("created log bucket %s: %+v", name, o)
		}
	}
	for _, name := range []string{"legacy-archive", "analytics-events", "partner-exchange"} {
		if o := got[name]; o.Status != apply.StatusApplied {
			t.Errorf("%s: %s %v", name, o.Status, o.Err)
		}
	}
	recs, err := apply.ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]int{}
	for _, r := range recs {
		if r.Status == apply.RecordCreated {
			created[r.Kind+" "+r.Region]++
		}
	}
	want := map[string]int{
		"bucket us-east-1": 1, "bucket eu-west-1": 1,
		"key us-east-1": 1, "key eu-west-1": 1,
		"topic us-east-1": 1, "topic eu-west-1": 1,
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created records (-want +got):\n%s", diff)
	}
	snap := e.srv.Snapshot()
	if len(snap.KMSKeys) != 2 || len(snap.Topics) != 2 {
		t.Errorf("%d keys, %d topics: want one per region", len(snap.KMSKeys), len(snap.Topics))
	}

	// The created log buckets are compliant: the next plan has nothing for
	// them, nor anything but held-back changes for the others.
	p2 := e.plan()
	if pend := unapplied(p2, true); len(pend) > 0 {
		t.Errorf("after apply the plan still has changes %v", pend)
	}
	for _, name := range []string{"s3baseline-logs-123456789012-us-east-1", "s3baseline-logs-123456789012-eu-west-1"} {
		if slices.Contains(pendingBuckets(p2), name) {
			t.Errorf("the created log bucket %s is not compliant: %+v", name, bucketPlan(t, p2, name).Changes)
		}
	}

	// Rollback lists what was created and leaves it in place.
	steps := apply.PlanRollback(recs)
	notes := 0
	for _, s := range steps {
		if s.Record.Status == apply.RecordCreated {
			notes++
			if !strings.Contains(s.Description, "left in place") {
				t.Errorf("step %q", s.Description)
			}
		}
	}
	if notes != 6 {
		t.Errorf("%d created resources listed, want 6", notes)
	}
	if err := e.rollback(j.Path()); err != nil {
		t.Fatal(err)
	}
	after := e.srv.Snapshot()
	if len(after.KMSKeys) != 2 || len(after.Topics) != 2 || len(after.BucketList) != len(before.BucketList)+2 {
		t.Errorf("rollback deleted something it created: %d keys %d topics %d buckets", len(after.KMSKeys), len(after.Topics), len(after.BucketList))
	}
	for name, b := range before.Buckets {
		if diff := cmp.Diff(b, asRestorable(b, after.Buckets[name])); diff != "" {
			t.Errorf("%s after rollback (-before +after):\n%s", name, diff)
		}
	}
}

// crashProvider makes every write after the first n fail as a crash would:
// the (n+1)th write is made, then the run is cut off (its context
// cancelled) before it can journal the outcome.
type crashProvider struct {
	apply.Provider
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *crashProvider) gate(ctx context.Context, write func(context.Context) error) error {
	c.mu.Lock()
	c.n--
	crash := c.n < 0
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if !crash {
		return write(ctx)
	}
	err := write(ctx)
	c.cancel()
	if err == nil {
		err = context.Canceled
	}
	return err
}

func (c *crashProvider) PutPublicAccessBlock(ctx context.Context, ref settings.BucketRef, v *settings.PublicAccessBlock) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutPublicAccessBlock(ctx, ref, v) })
}

func (c *crashProvider) PutOwnership(ctx context.Context, ref settings.BucketRef, v *settings.Ownership) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutOwnership(ctx, ref, v) })
}

func (c *crashProvider) PutEncryption(ctx context.Context, ref settings.BucketRef, v *settings.Encryption) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutEncryption(ctx, ref, v) })
}

func (c *crashProvider) PutLogging(ctx context.Context, ref settings.BucketRef, v *settings.Logging) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutLogging(ctx, ref, v) })
}

func (c *crashProvider) PutPolicy(ctx context.Context, ref settings.BucketRef, v *settings.Policy) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutPolicy(ctx, ref, v) })
}

func (c *crashProvider) PutNotifications(ctx context.Context, ref settings.BucketRef, v *settings.Notifications) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutNotifications(ctx, ref, v) })
}

func (c *crashProvider) PutVersioning(ctx context.Context, ref settings.BucketRef, v *settings.VersioningConfig) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutVersioning(ctx, ref, v) })
}

func (c *crashProvider) PutTopicPolicy(ctx context.Context, arn, policy string) error {
	return c.gate(ctx, func(ctx context.Context) error { return c.Provider.PutTopicPolicy(ctx, arn, policy) })
}

// crash applies p, cutting the run off right after its (n+1)th write,
// and then makes the journal look as a crash leaves it: the last record
// (the unknown end of the cut-off write) half written.
func (e *env) crash(p *plan.Plan, n int) string {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cp := &crashProvider{Provider: e.prov, n: n, cancel: cancel}
	j := e.journal("crash.jsonl")
	_, err := apply.Apply(ctx, cp, p, apply.Options{Config: e.cfg, Journal: j, Concurrency: 1})
	if err == nil {
		e.t.Fatal("the crashed apply reported no error")
	}
	data, rerr := os.ReadFile(j.Path())
	if rerr != nil {
		e.t.Fatal(rerr)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"status":"unknown"`) {
		e.t.Fatalf("journal does not end with the cut-off write's unknown outcome: %s", last)
	}
	lines[len(lines)-1] = last[:len(last)/2]
	if err := os.WriteFile(j.Path(), []byte(strings.Join(lines, "")), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return j.Path()
}

func TestCrashRollbackRestores(t *testing.T) {
	for _, n := range []int{0, 5, 11} {
		t.Run("after"+string(rune('0'+n/10))+string(rune('0'+n%10)), func(t *testing.T) {
			e := start(t, nil)
			before := e.srv.Snapshot()
			path := e.crash(e.plan(), n)

			recs, err := apply.ReadJournal(path)
			if err != nil {
				t.Fatalf("a damaged last line must be tolerated: %v", err)
			}
			last := recs[len(recs)-1]
			if last.Status != apply.RecordDamaged || !strings.Contains(last.Error, "damaged last line") {
				t.Errorf("last record = %+v, want the damage reported", last)
			}
			steps := apply.PlanRollback(recs)
			if !strings.Contains(steps[0].Description, "damaged last line") || !strings.Contains(steps[1].Description, "never finished") {
				t.Errorf("first steps: %q, %q", steps[0].Description, steps[1].Description)
			}
			if err := e.rollback(path); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			sameAsBefore(t, before, e.srv.Snapshot())
		})
	}
}

func TestCrashThenReapplyFinishes(t *testing.T) {
	e := start(t, nil)
	e.crash(e.plan(), 7)
	// The crashed run left buckets half done; a new plan and apply finish
	// them (the half-done buckets are not stale to the new plan).
	p := e.plan()
	out, _, err := e.apply(p, allowImpact)
	for _, o := range out {
		if o.Status == apply.StatusStale {
			t.Errorf("%s stale after re-plan", o.Bucket)
		}
	}
	if lines := flatten(err); err != nil && len(lines) != len(refused) {
		t.Errorf("re-apply: %v", err)
	}
	if pend := unapplied(e.plan(), true); len(pend) > 0 {
		t.Errorf("after re-apply the plan still has changes %v", pend)
	}
}

func TestFaultAfterNWritesRollback(t *testing.T) {
	e := start(t, nil)
	before := e.srv.Snapshot()
	p := e.plan()
	e.srv.InjectFault(emulator.Fault{WritesOnly: true, After: 9, Status: 403, Code: "AccessDenied"})
	out, j, err := e.apply(p, allowImpact)
	failed := 0
	for _, o := range out {
		if o.Status == apply.StatusFailed {
			failed++
		}
	}
	if err == nil || failed < 2 {
		t.Fatalf("the fault failed %d buckets (err %v)", failed, err)
	}
	e.srv.ClearFaults()
	if err := e.rollback(j.Path()); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	sameAsBefore(t, before, e.srv.Snapshot())

	// And from there a new plan and apply do everything.
	if _, _, err := e.apply(e.plan(), allowImpact); err != nil && len(flatten(err)) != len(refused) {
		t.Errorf("re-apply: %v", err)
	}
	if pend := unapplied(e.plan(), true); len(pend) > 0 {
		t.Errorf("after re-apply the plan still has changes %v", pend)
	}
}

func TestRollbackKeepsLaterForeignChanges(t *testing.T) {
	e := start(t, nil)
	p := e.plan()
	_, j, _ := e.apply(p)

	// After apply, someone else adds a statement to modern-default's policy
	// and an entry to its notifications: rollback takes back only ours.
	txt, _ := e.srv.BucketPolicy("modern-default")
	doc := map[string]any{}
	if err := json.Unmarshal([]byte(txt), &doc); err != nil {
		t.Fatal(err)
	}
	later := map[string]any{"Sid": "AddedLater", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:role/Later"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::modern-default/*"}
	doc["Statement"] = append(doc["Statement"].([]any), later)
	b, _ := json.Marshal(doc)
	if err := e.srv.SetBucketPolicy("modern-default", string(b)); err != nil {
		t.Fatal(err)
	}
	ref := settings.BucketRef{Name: "modern-default", Region: "us-east-1"}
	st := e.observe(ref.Name, ref.Region)
	n := settings.MergeNotifications(st.Notifications, nil)
	if n == nil {
		n = &settings.Notifications{}
	}
	n.EventBridge = true
	n = settings.MergeNotifications(n, func() *settings.NotificationEntry { e, _ := st.Notifications.Own(); return &e }())
	if err := e.prov.PutNotifications(context.Background(), ref, n); err != nil {
		t.Fatal(err)
	}

	if err := e.rollback(j.Path()); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	now := e.observe(ref.Name, ref.Region)
	pd, err := settings.ParsePolicy(now.Policy.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd.Statements) != 1 || pd.Statements[0].Sid != "AddedLater" {
		t.Errorf("policy after rollback = %s, want only the later statement", now.Policy.Raw)
	}
	if now.Notifications == nil || !now.Notifications.EventBridge || len(now.Notifications.Entries) != 0 {
		t.Errorf("notifications after rollback = %+v, want EventBridge only", now.Notifications)
	}
}

func TestRollbackOfRollback(t *testing.T) {
	e := start(t, nil)
	_, j, _ := e.apply(e.plan())
	applied := e.srv.Snapshot()
	rj := e.journal("rollback.jsonl")
	recs, err := apply.ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Rollback(context.Background(), e.prov, apply.PlanRollback(recs), rj, apply.RollbackOptions{}); err != nil {
		t.Fatal(err)
	}
	// The rollback journaled its own writes: rolling it back re-applies.
	if err := e.rollback(rj.Path()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(applied, e.srv.Snapshot()); diff != "" {
		t.Errorf("rollback of the rollback differs from the applied state (-applied +now):\n%s", diff)
	}
}
