package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// sharedRegion is the one region of sharedScenario, so that its one topic
// and one log bucket are every bucket's.
const sharedRegion = "us-east-1"

// sharedScenario is n buckets with S3's defaults in one region, each of
// which needs logging to the region's log bucket and notifications to the
// region's topic. The generator's log bucket and topic hold grants that
// are not quite the tool's (no aws:SourceArn condition; the log grant
// covers the whole bucket), so the run has to write each grant once.
func sharedScenario(n int) *emulator.Scenario {
	sc := emulator.GenerateScenario(1, emulator.GenerateOptions{Regions: []string{sharedRegion}})
	for i := range n {
		sc.Buckets = append(sc.Buckets, emulator.Bucket{
			Name: fmt.Sprintf("data-%03d", i), Region: sharedRegion, CreationDate: "2024-01-01T00:00:00Z",
		})
	}
	return sc
}

// sharedCalls counts the calls to the shared documents: the topic's
// attributes and the log bucket's policy, reads and successful writes.
type sharedCalls struct {
	TopicReads, TopicWrites, LogPolicyReads, LogPolicyWrites int
}

func countShared(calls []emulator.Call) sharedCalls {
	var c sharedCalls
	logBucket := emulator.GeneratedLogBucket(sharedRegion)
	ok := func(k emulator.Call) bool { return k.Status >= 200 && k.Status < 300 }
	for _, k := range calls {
		switch {
		case k.Service == "sns" && k.Operation == "GetTopicAttributes":
			c.TopicReads++
		case k.Service == "sns" && k.Operation == "SetTopicAttributes" && ok(k):
			c.TopicWrites++
		case k.Bucket == logBucket && k.Operation == "GetBucketPolicy":
			c.LogPolicyReads++
		case k.Bucket == logBucket && k.Operation == "PutBucketPolicy" && ok(k):
			c.LogPolicyWrites++
		}
	}
	return c
}

// The shared documents are read a constant number of times per run and
// written at most once, however many buckets need their grants. The
// topic's attributes are read three times when the grant is written: to
// make sure the topic exists, under its lock right before the write (the
// read the write is compared against), and by the provider after the
// write, to see it in place; twice when the grant is found in place. The
// log bucket's policy likewise twice, or once. The first bucket that needs
// a grant reads (and writes) it; every later bucket of the run finds it in
// place without a call, and reports no write for it.
func TestSharedGrantsOncePerRun(t *testing.T) {
	cases := map[string]struct {
		n       int
		inPlace bool // the topic and log bucket already hold the tool's grants
		want    sharedCalls
		grants  string // the journaled grants
	}{
		"3 buckets":                   {n: 3, want: sharedCalls{TopicReads: 3, TopicWrites: 1, LogPolicyReads: 2, LogPolicyWrites: 1}, grants: "bucket:1 topic:1"},
		"12 buckets":                  {n: 12, want: sharedCalls{TopicReads: 3, TopicWrites: 1, LogPolicyReads: 2, LogPolicyWrites: 1}, grants: "bucket:1 topic:1"},
		"12 buckets, grants in place": {n: 12, inPlace: true, want: sharedCalls{TopicReads: 2, LogPolicyReads: 1}, grants: "bucket:0 topic:0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sc := sharedScenario(tc.n)
			if tc.inPlace {
				grantsInPlace(t, sc)
			}
			e := start(t, sc)
			p := e.plan()
			before := e.srv.Snapshot()
			e.srv.ResetCalls()
			out, j, err := e.apply(p, allowImpact, func(o *apply.Options) { o.Concurrency = 8 })
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			calls, writes := e.srv.Calls(), e.srv.WriteCalls()
			if got := countShared(calls); got != tc.want {
				t.Errorf("calls to the shared documents = %+v, want %+v", got, tc.want)
			}

			// Every bucket's writes are its own, but for the one bucket
			// each grant was written for; the log bucket itself has
			// nothing to change.
			extra := 0
			for _, o := range out {
				if o.Bucket == emulator.GeneratedLogBucket(sharedRegion) {
					if o.Status != apply.StatusUnchanged || o.Writes != 0 {
						t.Errorf("log bucket: %s, %d writes, %v", o.Status, o.Writes, o.Err)
					}
					continue
				}
				if o.Status != apply.StatusApplied {
					t.Errorf("%s: %s %v", o.Bucket, o.Status, o.Err)
				}
				d := o.Writes - writesTo(writes, o.Bucket)
				if d < 0 || d > 2 {
					t.Errorf("%s reports %d writes, made %d to itself", o.Bucket, o.Writes, writesTo(writes, o.Bucket))
				}
				extra += d
			}
			if want := tc.want.TopicWrites + tc.want.LogPolicyWrites; extra != want {
				t.Errorf("%d writes reported for shared grants, want %d (one per document written)", extra, want)
			}
			recs, rerr := apply.ReadJournal(j.Path())
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := grantRecords(recs); got != tc.grants {
				t.Errorf("journaled grants %s, want %s", got, tc.grants)
			}

			// A second apply of a fresh plan writes nothing.
			p2 := e.plan()
			if pend := unapplied(p2, true); len(pend) > 0 {
				t.Errorf("after apply the plan still has changes %v", pend)
			}
			e.srv.ResetCalls()
			if _, _, err := e.apply(p2); err != nil {
				t.Errorf("second apply: %v", err)
			}
			if w := e.srv.WriteCalls(); len(w) != 0 {
				t.Errorf("second apply made %d writes: %+v", len(w), w)
			}

			if err := e.rollback(j.Path()); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			sameAsBefore(t, before, e.srv.Snapshot())
		})
	}
}

// grantsInPlace gives the scenario's topic and log bucket the tool's own
// grants, everything else of their policies kept.
func grantsInPlace(t *testing.T, sc *emulator.Scenario) {
	t.Helper()
	merge := func(cur string, sid string, st json.RawMessage) json.RawMessage {
		p, err := settings.MergePolicy(&settings.Policy{Raw: cur}, map[string]json.RawMessage{sid: st}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return json.RawMessage(p.Raw)
	}
	topic := &sc.SNSTopics[0]
	arn := "arn:aws:sns:" + topic.Region + ":" + sc.AccountID + ":" + topic.Name
	topic.Policy = merge(string(topic.Policy), settings.SidAllowS3Publish, apply.TopicPublishStatement(arn, sc.AccountID))
	for i := range sc.Buckets {
		if b := &sc.Buckets[i]; b.Name == emulator.GeneratedLogBucket(sharedRegion) {
			b.Policy = merge(string(b.Policy), settings.SidServerAccessLogs, apply.LogDeliveryStatement("aws", b.Name, "s3/", sc.AccountID))
		}
	}
}

// grantRecords sums the journal's started records written on a bucket's
// behalf (For), by kind.
func grantRecords(recs []apply.Record) string {
	n := map[string]int{}
	for _, r := range recs {
		if r.Status == apply.RecordStarted && r.For != "" {
			n[r.Kind]++
		}
	}
	return fmt.Sprintf("bucket:%d topic:%d", n[apply.KindBucket], n[apply.KindTopic])
}

// failTopicOnce refuses the first topic policy write, as SNS would a
// throttled or denied SetTopicAttributes.
type failTopicOnce struct {
	apply.Provider
	mu     sync.Mutex
	failed bool
}

var errTopicRefused = errors.New("topic write refused by the test")

func (f *failTopicOnce) PutTopicPolicy(ctx context.Context, arn, policy string) error {
	f.mu.Lock()
	first := !f.failed
	f.failed = true
	f.mu.Unlock()
	if first {
		return errTopicRefused
	}
	return f.Provider.PutTopicPolicy(ctx, arn, policy)
}

// A grant that failed is not taken as made: the bucket it was for fails
// and says so, the next bucket that needs it reads and writes it again,
// and rollback still restores the state before the run.
func TestSharedGrantFailureNotCached(t *testing.T) {
	e := start(t, sharedScenario(6))
	p := e.plan()
	before := e.srv.Snapshot()
	e.srv.ResetCalls()
	out, j, err := e.applyWith(&failTopicOnce{Provider: e.prov}, p, allowImpact, func(o *apply.Options) { o.Concurrency = 1 })
	var failed []string
	for _, o := range out {
		switch {
		case o.Status == apply.StatusApplied, o.Bucket == emulator.GeneratedLogBucket(sharedRegion):
		case errors.Is(o.Err, errTopicRefused) && strings.Contains(o.Err.Error(), "grant S3 publishing on"):
			failed = append(failed, o.Bucket)
		default:
			t.Errorf("%s: %s %v", o.Bucket, o.Status, o.Err)
		}
	}
	if len(failed) != 1 || err == nil {
		t.Errorf("failed %v (err %v), want the one bucket whose grant was refused", failed, err)
	}
	got := countShared(e.srv.Calls())
	if want := (sharedCalls{TopicReads: 4, TopicWrites: 1, LogPolicyReads: 2, LogPolicyWrites: 1}); got != want {
		t.Errorf("calls to the shared documents = %+v, want %+v (the refused grant read again)", got, want)
	}
	recs, rerr := apply.ReadJournal(j.Path())
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got := grantRecords(recs); got != "bucket:1 topic:2" {
		t.Errorf("journaled grants %s, want the refused topic grant and its retry", got)
	}
	if err := e.rollback(j.Path()); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	sameAsBefore(t, before, e.srv.Snapshot())
}

// TestApplySlotsBoundTheBuckets: with Options.Slots (an organization's
// budget, shared among its accounts) no more buckets are looked at and
// written at once than the slots allow, whatever Concurrency says, and as
// many as they allow are.
func TestApplySlotsBoundTheBuckets(t *testing.T) {
	e := start(t, nil)
	p := e.plan()
	// Every request takes a while, so that the buckets' requests overlap
	// and the peak is the bound.
	e.srv.SetChaos(emulator.Chaos{SpikeRate: 1, SpikeLatency: 15 * time.Millisecond})
	e.srv.ResetInFlight()
	slots := plan.NewSlots(2)
	out, _, err := e.apply(p, allowImpact, func(o *apply.Options) { o.Concurrency, o.Slots = 8, slots })
	if out == nil {
		t.Fatalf("apply: %v", err)
	}
	if got := e.srv.MaxBucketRequestsInFlight("s3"); got != 2 {
		t.Errorf("at most %d S3 bucket requests in flight at once, want 2 (2 slots, 8 workers)", got)
	}
}
