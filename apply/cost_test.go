package apply_test

import (
	"context"
	"errors"
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

// TestApplyReadsWhatItsChangesDependOn: before its first write, apply reads
// again what a bucket's changes were judged from (plan.JudgedFrom), not
// every aspect the plan read; then, at the write, the aspect it writes
// (compare and swap). A compliant bucket with one control drifted costs
// those reads and one write, and a change to an aspect none of its
// changes depends on neither stales nor blocks it.
func TestApplyReadsWhatItsChangesDependOn(t *testing.T) {
	cases := map[string]struct {
		drift   func(srv *emulator.Server, name string) error
		control settings.ControlID
		// want are the bucket's calls during apply: the reads before the
		// run's first write (JudgedFrom of the control, of what the plan
		// observed: the aspect and the tags, which pick the baseline and
		// tell whether CloudFormation manages the bucket), the compare and
		// swap read right before the write, the write, and the provider's
		// read-back of it.
		want map[string]int
	}{
		"logging off": {
			drift:   func(srv *emulator.Server, name string) error { return srv.SetLogging(name, nil) },
			control: settings.AccessLogging,
			want:    map[string]int{"GetBucketLogging": 3, "GetBucketTagging": 1, "PutBucketLogging": 1},
		},
		"notifications gone": {
			drift: func(srv *emulator.Server, name string) error {
				return srv.SetNotifications(name, emulator.Notifications{})
			},
			control: settings.EventNotifications,
			want:    map[string]int{"GetBucketNotificationConfiguration": 3, "GetBucketTagging": 1, "PutBucketNotificationConfiguration": 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
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
			out, _, err := e.apply(p)
			var forged *plan.ForgeryError
			if errors.As(err, &forged) {
				t.Fatalf("apply refused the plan as forged: %v", err)
			}
			o := byBucket(out)[bucket]
			if o.Status != apply.StatusApplied {
				t.Fatalf("bucket %s: %s (%v), want applied", bucket, o.Status, o.Err)
			}
			if got := bucketOps(e.srv.Calls(), bucket); !maps.Equal(got, tc.want) {
				t.Errorf("bucket %s's calls during apply = %v, want %v", bucket, got, tc.want)
			}
			st := e.prov.ObserveBucket(context.Background(), settings.BucketRef{Name: bucket, Region: sharedRegion}, []settings.Aspect{settings.AspectVersioning})
			if st.Versioning == nil || st.Versioning.Status != "Suspended" {
				t.Errorf("apply touched the versioning it had no change for: %+v", st.Versioning)
			}
		})
	}
}

// TestApplyDependencyChangedIsStale: what a change was judged from is
// still read again, and a change to it since the plan stales the change
// (here the tags, which pick the bucket's baseline), with nothing written.
func TestApplyDependencyChangedIsStale(t *testing.T) {
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
	out, _, _ := e.apply(p)
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
