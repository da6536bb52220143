package main

// The model-based safety test, with someone else at work: between the plan
// and its apply, another writer changes one aspect of some of the batch's
// buckets (drawn from the seed). The promise under test is the fourth one
// of "Safety: what apply promises": nothing is written over a value the plan
// did not see. Checked against the emulator's state, never the tool's view:
//
//   - every aspect someone changed after the plan is, after apply, exactly
//     what they wrote;
//   - nothing is weaker than it was just before apply, nothing of others'
//     is gone, and nobody who could read a bucket just before apply lost
//     access unless the plan announced it and --allow-impact was given;
//   - a change the plan would have made, judged from an aspect someone
//     changed, is not made: the bucket's line calls it stale, or held back
//     for what it would break now;
//   - rollback restores the state just before apply.

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// interference is one aspect another writer changes after the plan.
type interference struct {
	aspect settings.Aspect
	// op is the S3 call that reads the aspect.
	op string
	// do changes the bucket as the other writer would, from its state now.
	do func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error
	// of is the aspect's value in a snapshot, to compare before and after.
	of func(b emulator.BucketSnapshot) any
}

// interferences are the other writer's changes. Each differs from any
// state genBucket draws (a Sid, an ID, a prefix or a key of its own), so
// the aspect surely changes.
var interferences = []interference{
	{aspect: settings.AspectPolicy, op: "GetBucketPolicy",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			doc := map[string]any{"Version": "2012-10-17", "Statement": []any{}}
			if now.Policy != "" {
				if err := json.Unmarshal([]byte(now.Policy), &doc); err != nil {
					return err
				}
			}
			stmts, _ := doc["Statement"].([]any)
			if m, ok := doc["Statement"].(map[string]any); ok {
				stmts = []any{m}
			}
			doc["Statement"] = append(stmts, map[string]any{"Sid": "LatePartnerRead", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::210987654321:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + name + "/*"})
			text, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			return srv.SetBucketPolicy(name, string(text))
		},
		of: func(b emulator.BucketSnapshot) any { return b.Policy }},
	{aspect: settings.AspectEncryption, op: "GetBucketEncryption",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			return srv.SetEncryption(name, &emulator.Encryption{Algorithm: "aws:kms", KMSKeyID: keyARN(now.Region, "alias/team"), BucketKeyEnabled: false})
		},
		of: func(b emulator.BucketSnapshot) any { return b.Encryption }},
	{aspect: settings.AspectPublicAccessBlock, op: "GetPublicAccessBlock",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			// Someone turns the ACL flags around (or adds a configuration
			// with one flag on): always a different configuration, and
			// never all four on, what the plan itself would write (apply
			// rightly takes that as its own write, made).
			if b := now.PublicAccessBlock; b != nil {
				acls, ignore := !b.BlockPublicAcls, !b.IgnorePublicAcls
				if acls && ignore && b.BlockPublicPolicy && b.RestrictPublicBuckets {
					ignore = false
				}
				return srv.SetPublicAccessBlock(name, acls, ignore, b.BlockPublicPolicy, b.RestrictPublicBuckets)
			}
			return srv.SetPublicAccessBlock(name, false, true, false, false)
		},
		of: func(b emulator.BucketSnapshot) any { return b.PublicAccessBlock }},
	{aspect: settings.AspectLogging, op: "GetBucketLogging",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			return srv.SetLogging(name, &emulator.Logging{TargetBucket: "team-logs-" + now.Region, TargetPrefix: "late/" + name + "/"})
		},
		of: func(b emulator.BucketSnapshot) any { return b.Logging }},
	{aspect: settings.AspectNotifications, op: "GetBucketNotificationConfiguration",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			n := now.Notifications
			n.Entries = append(slices.Clone(n.Entries), emulator.NotificationEntry{ID: "late-restores", Kind: "queue",
				ARN: "arn:aws:sqs:" + now.Region + ":" + safetyAccount + ":ingest", Events: []string{"s3:ObjectRestore:Completed"},
				FilterRules: []emulator.FilterRule{{Name: "prefix", Value: "late/"}}})
			return srv.SetNotifications(name, n)
		},
		of: func(b emulator.BucketSnapshot) any { return b.Notifications }},
	{aspect: settings.AspectWebsite, op: "GetBucketWebsite",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			return srv.SetWebsite(name, now.Website == nil)
		},
		of: func(b emulator.BucketSnapshot) any { return b.Website }},
	{aspect: settings.AspectTags, op: "GetBucketTagging",
		do: func(srv *emulator.Server, name string, now emulator.BucketSnapshot) error {
			tags := map[string]string{"late-owner": "team-b"}
			for k, v := range now.Tags {
				tags[k] = v
			}
			return srv.SetTags(name, tags)
		},
		of: func(b emulator.BucketSnapshot) any { return b.Tags }},
}

// runSafetyInterfered plans a batch (baseline high), lets another writer
// change one aspect of about half its buckets, applies the plan (with
// --allow-impact or not) and checks the promises above. The other writer
// works between the plan and the apply, or (during) within the apply,
// between its check of a bucket and its writes.
func runSafetyInterfered(t *testing.T, batch []emulator.Bucket, allowImpact, during, signed bool, r *rand.Rand, seed uint64) {
	srv, dir, cfg, names := safetyEnv(t, batch, "high", seed)
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	if res := runCLI(t, append([]string{"plan", "--config", cfg, "--endpoint-url", srv.URL(), "--out", planFile, "--allow-empty"}, signFlags(signed)...)...); res.code == 2 || strings.Contains(res.stderr, "panic") {
		t.Fatalf("plan exited %d: %s", res.code, res.stderr)
	}
	p, err := plan.ReadFile(planFile)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}

	changed := map[string]interference{}
	at := srv.Snapshot()
	// mid is each bucket as it was when apply began to work on it: as
	// planned, or as the other writer left it. access is who could read it
	// then.
	mid := emulator.Snapshot{Buckets: maps.Clone(at.Buckets)}
	access := readers(srv, names)
	var mu sync.Mutex
	interfere := func(srv *emulator.Server, name string, in interference) {
		if err := in.do(srv, name, srv.Snapshot().Buckets[name]); err != nil {
			t.Errorf("%s: another writer's %s: %v", name, in.aspect, err)
			return
		}
		b, who := srv.Snapshot().Buckets[name], readers(srv, []string{name})[name]
		mu.Lock()
		defer mu.Unlock()
		changed[name], mid.Buckets[name], access[name] = in, b, who
	}
	for _, name := range names {
		if r.IntN(2) == 0 {
			continue
		}
		in := interferences[r.IntN(len(interferences))]
		if !during {
			interfere(srv, name, in)
			continue
		}
		// During apply: right after its first read of the aspect, which
		// for an aspect it writes is the check before the run's first
		// write, so only the compare-and-swap read before the write can
		// see it.
		srv.OnRequest(emulator.Hook{Service: "s3", Operation: in.op, Bucket: name, Times: 1, Do: func(srv *emulator.Server) { interfere(srv, name, in) }})
	}
	if !during {
		// The draw must change something, or the checks below prove nothing.
		touched := 0
		for name, in := range changed {
			if !cmp.Equal(in.of(at.Buckets[name]), in.of(mid.Buckets[name])) {
				touched++
			}
		}
		if len(changed) > 0 && touched == 0 {
			t.Fatalf("seed %d: the other writer changed nothing in %d buckets", seed, len(changed))
		}
	}

	args := append([]string{"apply", planFile, "--endpoint-url", srv.URL(), "--journal", journal}, signFlags(signed)...)
	if allowImpact {
		args = append(args, "--allow-impact")
	}
	res := runCLI(t, args...)
	if strings.Contains(res.stderr, "panic") {
		t.Fatalf("apply: %s", res.stderr)
	}
	checkVerified(t, signed, res)
	mu.Lock()
	defer mu.Unlock()
	after := srv.Snapshot()
	for name, in := range changed {
		if cmp.Equal(in.of(at.Buckets[name]), in.of(mid.Buckets[name])) {
			continue // drawn as it was: the plan saw this value
		}
		if d := cmp.Diff(in.of(mid.Buckets[name]), in.of(after.Buckets[name])); d != "" {
			t.Errorf("%s (seed %d): apply wrote over the %s someone set after the plan (-theirs +after apply):\n%s\nplan %s", name, seed, in.aspect, d, dump(planned(p, name)))
		}
	}
	for _, name := range names {
		for _, v := range weaker(mid, after, name) {
			t.Errorf("%s (seed %d): weaker after apply than just before: %s", name, seed, v)
		}
		for _, v := range lostForeign(mid.Buckets[name], after.Buckets[name]) {
			t.Errorf("%s (seed %d): lost after apply: %s", name, seed, v)
		}
	}
	for _, v := range cutOff(p, access, readers(srv, names), allowImpact) {
		t.Errorf("seed %d: %s", seed, v)
	}
	notMade := 0
	for name, in := range changed {
		bp := planned(p, name)
		if bp == nil || cmp.Equal(in.of(at.Buckets[name]), in.of(mid.Buckets[name])) {
			continue
		}
		line := outcomeLine(res.stdout, name)
		held := outcomeIDs(line)
		for _, c := range bp.Changes {
			if !c.Applicable(allowImpact) || !slices.Contains(c.Depends, in.aspect) {
				continue
			}
			// Stale, or held back for what the new state would break: either
			// way not made, and said so on the bucket's line.
			notMade++
			if !slices.Contains(held, string(c.Control)) {
				t.Errorf("%s (seed %d): %s (%s -> %s) was judged from the %s someone changed (the plan saw %s, they set %s), but apply neither called it stale nor held it back: %q",
					name, seed, c.Control, c.Before, c.After, in.aspect, dump(in.of(at.Buckets[name])), dump(in.of(mid.Buckets[name])), line)
			}
		}
	}
	if notMade > 0 && res.code == 0 {
		t.Errorf("seed %d: %d planned changes were not made but apply exited 0", seed, notMade)
	}

	if res := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "rollback.jsonl")); res.code != 0 && res.code != 1 {
		t.Errorf("rollback exited %d: %s", res.code, res.stderr)
	}
	restored := srv.Snapshot()
	for _, name := range names {
		if d := cmp.Diff(documented(mid.Buckets[name]), documented(restored.Buckets[name])); d != "" {
			t.Errorf("%s (seed %d): rollback did not restore the state just before apply (-before +after):\n%s", name, seed, d)
		}
	}
}

// outcomeIDs are the controls an outcome line lists as held back or stale.
func outcomeIDs(line string) []string {
	var out []string
	for _, part := range strings.Split(line, "; ") {
		for _, label := range []string{"held back: ", "stale: "} {
			if ids, ok := strings.CutPrefix(part, label); ok {
				out = append(out, strings.Split(ids, ", ")...)
			}
		}
	}
	return out
}

// outcomeLine is apply's line for the bucket ("  bucket \"x\" (region):
// ..."), or "".
func outcomeLine(stdout, name string) string {
	prefix := fmt.Sprintf("  bucket %q (", name)
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
