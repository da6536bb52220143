package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// costScenario is a generated account in one region with a compliant
// bucket (for e2e.yaml's high baseline), returned by name.
func costScenario(t *testing.T) (*emulator.Scenario, string) {
	t.Helper()
	sc := emulator.GenerateScenario(20, emulator.GenerateOptions{Seed: 1, Regions: []string{sharedRegion}})
	for _, b := range sc.Buckets {
		if strings.HasSuffix(b.Name, "-"+emulator.GenCompliant) {
			return sc, b.Name
		}
	}
	t.Fatal("the generated account has no compliant bucket")
	return nil, ""
}

// bucketOps counts one bucket's calls by operation.
func bucketOps(calls []emulator.Call, bucket string) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if c.Bucket == bucket {
			out[c.Operation]++
		}
	}
	return out
}

// TestApplyReadsWhatItsChangesDependOn: before the run's first write apply
// reads what a bucket's changes were judged from (plan.JudgedFrom), not
// every aspect the plan read, and again right before the bucket's writes
// the part of it other than the changes' own aspects; then, at the write,
// the aspect it writes (compare and swap). A
// compliant bucket with one control drifted costs those reads and one
// write, and a change to an aspect none of its changes depends on neither
// stales nor blocks it.
func TestApplyReadsWhatItsChangesDependOn(t *testing.T) {
	cases := map[string]struct {
		drift   func(srv *emulator.Server, name string) error
		control settings.ControlID
		// want are the bucket's calls during apply of a plan file: the
		// reads before the run's first write (JudgedFrom of the control,
		// of what the plan observed: the aspect and the tags, which pick
		// the baseline and tell whether CloudFormation manages the
		// bucket), the tags again right before the bucket's writes (the
		// first check may be minutes old by then; the control's own aspect
		// is read at its write anyway), the compare and swap read right
		// before the write, the write, and the provider's read-back of it
		// where S3 is not documented to show a write at once (not
		// logging).
		want map[string]int
		// trusted are the calls when the plan is the tool's own
		// (Options.Trusted): the reads before the first write are made at
		// the bucket's turn instead, and stand for the look again, so the
		// tags are read once.
		trusted map[string]int
	}{
		"logging off": {
			drift:   func(srv *emulator.Server, name string) error { return srv.SetLogging(name, nil) },
			control: settings.AccessLogging,
			want:    map[string]int{"GetBucketLogging": 2, "GetBucketTagging": 2, "PutBucketLogging": 1},
			trusted: map[string]int{"GetBucketLogging": 2, "GetBucketTagging": 1, "PutBucketLogging": 1},
		},
		"notifications gone": {
			drift: func(srv *emulator.Server, name string) error {
				return srv.SetNotifications(name, emulator.Notifications{})
			},
			control: settings.EventNotifications,
			want:    map[string]int{"GetBucketNotificationConfiguration": 3, "GetBucketTagging": 2, "PutBucketNotificationConfiguration": 1},
			trusted: map[string]int{"GetBucketNotificationConfiguration": 3, "GetBucketTagging": 1, "PutBucketNotificationConfiguration": 1},
		},
	}
	for name, tc := range cases {
		for _, trust := range []bool{false, true} {
			want := tc.want
			if trust {
				want = tc.trusted
			}
			t.Run(fmt.Sprintf("%s/trusted=%v", name, trust), func(t *testing.T) {
				sc, bucket := costScenario(t)
				e := start(t, sc)
				if err := tc.drift(e.srv, bucket); err != nil {
					t.Fatal(err)
				}
				p := e.plan()
				bp := bucketPlan(t, p, bucket)
				var pending []settings.ControlID
				for _, c := range bp.Changes {
					if c.Action != plan.NoOp {
						pending = append(pending, c.Control)
					}
				}
				if !slices.Equal(pending, []settings.ControlID{tc.control}) {
					t.Fatalf("the drifted bucket's pending changes are %v, want only %s", pending, tc.control)
				}
				// A change since the plan to an aspect the change does not
				// depend on: not read, so neither stale nor forged.
				if err := e.srv.SetVersioning(bucket, "Suspended", ""); err != nil {
					t.Fatal(err)
				}
				e.srv.ResetCalls()
				out, _, err := e.apply(p, func(o *apply.Options) { o.Trusted = trust })
				var forged *plan.ForgeryError
				if errors.As(err, &forged) {
					t.Fatalf("apply refused the plan as forged: %v", err)
				}
				o := byBucket(out)[bucket]
				if o.Status != apply.StatusApplied {
					t.Fatalf("bucket %s: %s (%v), want applied", bucket, o.Status, o.Err)
				}
				if got := bucketOps(e.srv.Calls(), bucket); !maps.Equal(got, want) {
					t.Errorf("bucket %s's calls during apply = %v, want %v", bucket, got, want)
				}
				st := e.prov.ObserveBucket(context.Background(), settings.BucketRef{Name: bucket, Region: sharedRegion}, []settings.Aspect{settings.AspectVersioning})
				if st.Versioning == nil || st.Versioning.Status != "Suspended" {
					t.Errorf("apply touched the versioning it had no change for: %+v", st.Versioning)
				}
			})
		}
	}
}

// TestApplyDependencyChangedIsStale: what a change was judged from is
// still read again, and a change to it since the plan stales the change
// (here the tags, which pick the bucket's baseline), with nothing written.
func TestApplyDependencyChangedIsStale(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trust), func(t *testing.T) { dependencyChangedIsStale(t, trust) })
	}
}

func dependencyChangedIsStale(t *testing.T, trust bool) {
	sc, bucket := costScenario(t)
	e := start(t, sc)
	if err := e.srv.SetLogging(bucket, nil); err != nil {
		t.Fatal(err)
	}
	p := e.plan()
	if err := e.srv.SetTags(bucket, map[string]string{"owner": "someone-else"}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCalls()
	out, _, _ := e.apply(p, func(o *apply.Options) { o.Trusted = trust })
	o := byBucket(out)[bucket]
	if o.Status != apply.StatusStale {
		t.Errorf("bucket %s: %s (%v), want stale: its tags changed since the plan", bucket, o.Status, o.Err)
	}
	for op, n := range bucketOps(e.srv.Calls(), bucket) {
		if strings.HasPrefix(op, "Put") || strings.HasPrefix(op, "Delete") {
			t.Errorf("%d %s to %s, want no write", n, op, bucket)
		}
	}
}

// TestApplyOwnSharedWriteIsNotMoved: the run's own write to a bucket it
// also changes (a log bucket's delivery grant, written for the buckets
// that log to it before the log bucket's turn) is not someone else's
// change: looked at again right before its own writes, the log bucket's
// Block Public Access, judged from its policy, is still made.
func TestApplyOwnSharedWriteIsNotMoved(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trust), func(t *testing.T) { ownSharedWriteIsNotMoved(t, trust) })
	}
}

func ownSharedWriteIsNotMoved(t *testing.T, trust bool) {
	sc, data := costScenario(t)
	e := start(t, sc)
	logs := emulator.GeneratedLogBucket(sharedRegion)
	policy, ok := e.srv.BucketPolicy(logs)
	if !ok {
		t.Fatalf("the generated log bucket %s has no policy", logs)
	}
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatal(err)
	}
	doc.Statement = slices.DeleteFunc(doc.Statement, func(s map[string]any) bool { return s["Sid"] == "S3BaselineServerAccessLogs" })
	text, _ := json.Marshal(doc)
	if err := e.srv.SetBucketPolicy(logs, string(text)); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetPublicAccessBlock(logs, false, false, false, false); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetLogging(data, nil); err != nil {
		t.Fatal(err)
	}
	p := e.plan()
	lp := bucketPlan(t, p, logs)
	i := slices.IndexFunc(lp.Changes, func(c plan.Change) bool { return c.Control == settings.BlockPublicAccess })
	if i < 0 || !lp.Changes[i].Applicable(false) || !slices.Contains(lp.Changes[i].Depends, settings.AspectPolicy) {
		t.Fatalf("the log bucket's changes %+v: want a block_public_access change to make, judged from the policy", lp.Changes)
	}
	// One worker: the buckets in plan order, the log bucket (s3baseline-...)
	// after the data buckets (s3b-...) whose logging writes its grant.
	out, _, err := e.apply(p, func(o *apply.Options) { o.Concurrency, o.Trusted = 1, trust })
	if out == nil {
		t.Fatalf("apply: %v", err)
	}
	granted, _ := e.srv.BucketPolicy(logs)
	if !strings.Contains(granted, "logging.s3.amazonaws.com") {
		t.Fatalf("the run wrote no delivery grant to %s: %s", logs, granted)
	}
	if o := byBucket(out)[logs]; !slices.Contains(o.Applied, settings.BlockPublicAccess) {
		t.Errorf("log bucket %s: %s, applied %v, stale %v (%v): want block_public_access made", logs, o.Status, o.Applied, o.Stale, o.Err)
	}
}
