package main

// The model-based safety test: random bucket states, generated from a seed,
// are planned, applied (with and without --allow-impact), planned again and
// rolled back through the real CLI, the real providers/aws and the real SDK
// against the emulator, for every baseline. After each step it checks the
// promises the README makes ("Safety: what apply promises") against the
// emulator's own state and its model of who can read a bucket, never
// against the tool's idea of them:
//
//   - no setting of any bucket is weaker after apply;
//   - every foreign statement, ACL grant, notification entry and the
//     EventBridge switch are kept;
//   - a bucket public by AWS's definition loses public access only when the
//     plan listed an impact for it and --allow-impact was given;
//   - a second plan has no changes except held-back ones;
//   - rollback restores the observed state exactly, except what the README
//     documents (a legacy bucket's missing encryption comes back as SSE-S3);
//   - with another writer at work between plan and apply, or within apply
//     (safety_interfere_test.go), nothing they wrote is written over.
//
// make test runs at least 200 states; make fuzz runs thousands
// (-safety.states). A failure prints the seed: -safety.seed replays it.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

var (
	safetyStates = flag.Int("safety.states", 204, "bucket states TestSafetyModel generates (each runs under every baseline, with and without --allow-impact)")
	safetySeed   = flag.Uint64("safety.seed", 0, "seed of TestSafetyModel; 0 takes one from the clock (the test logs it)")
)

const (
	safetyAccount = "123456789012"
	safetyCaller  = "arn:aws:sts::123456789012:assumed-role/Ops/alice"
	safetyOAI     = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2SAFETYEXAMPLE"
	// safetyBatch is how many generated buckets share one emulator run.
	safetyBatch = 34
)

var safetyRegions = []string{"us-east-1", "eu-west-1"}

// safetyKeys are the keys of the generated account: ours (the config's
// alias/s3baseline) and a team's, in each region.
func safetyKeys() []emulator.KMSKey {
	var keys []emulator.KMSKey
	for i, r := range safetyRegions {
		keys = append(keys,
			emulator.KMSKey{Region: r, ID: fmt.Sprintf("0000000%d-aaaa-4aaa-8aaa-00000000000%d", i, i), Aliases: []string{"alias/s3baseline"}},
			emulator.KMSKey{Region: r, ID: fmt.Sprintf("1111111%d-bbbb-4bbb-8bbb-11111111111%d", i, i), Aliases: []string{"alias/team"}},
			// The operator's plan-signing key (the signed runs).
			emulator.KMSKey{Region: r, ID: fmt.Sprintf("2222222%d-cccc-4ccc-8ccc-22222222222%d", i, i), Aliases: []string{safetySignKey}, KeySpec: "HMAC_256"},
		)
	}
	return keys
}

// safetySignKey signs the plans of the signed runs: a plan whose
// signature apply verifies is the tool's own (apply.Options.Trusted), so
// apply plans each bucket again at its turn alone, with no check of the
// whole plan before the first write.
const safetySignKey = "alias/safety-plan-signing"

// signFlags are the flags of a signed run's plan and apply, none for an
// unsigned one.
func signFlags(signed bool) []string {
	if signed {
		return []string{"--sign-key", safetySignKey}
	}
	return nil
}

// checkVerified fails a signed run whose apply did not verify the plan's
// signature: it would have checked the plan whole, and the run would not
// test the trusted path it is for.
func checkVerified(t *testing.T, signed bool, res result) {
	t.Helper()
	if signed && !strings.Contains(res.stderr, "Signature verified with key "+safetySignKey) {
		t.Fatalf("the signed run's apply did not verify the plan's signature: %s", res.stderr)
	}
}

func keyARN(region, alias string) string {
	for _, k := range safetyKeys() {
		if k.Region == region && slices.Contains(k.Aliases, alias) {
			return "arn:aws:kms:" + region + ":" + safetyAccount + ":key/" + k.ID
		}
	}
	panic("no key " + alias + " in " + region)
}

// genBucket draws one bucket state.
func genBucket(r *rand.Rand, i int) emulator.Bucket {
	region := safetyRegions[r.IntN(len(safetyRegions))]
	b := emulator.Bucket{Name: fmt.Sprintf("gen-%04d", i), Region: region, Legacy: r.IntN(3) == 0}
	arn := "arn:aws:s3:::" + b.Name
	pick := func(n int) bool { return r.IntN(n) == 0 }

	// Block Public Access: legacy buckets have none unless drawn.
	switch r.IntN(4) {
	case 0:
		b.PublicAccessBlock = &emulator.PublicAccessBlock{}
	case 1:
		b.PublicAccessBlock = &emulator.PublicAccessBlock{BlockPublicAcls: pick(2), IgnorePublicAcls: pick(2), BlockPublicPolicy: pick(2), RestrictPublicBuckets: pick(2)}
	case 2:
		b.PublicAccessBlock = &emulator.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	}
	if b.Legacy && b.PublicAccessBlock == nil && !pick(3) {
		b.PublicAccessBlock = nil
	}
	b.Ownership = []string{"", "ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"}[r.IntN(4)]

	// Default encryption: every kind, every key, with and without the
	// SSE-C block.
	switch r.IntN(7) {
	case 0:
		b.Encryption = &emulator.Encryption{Algorithm: "AES256"}
	case 1:
		b.Encryption = &emulator.Encryption{Algorithm: "aws:kms", BucketKeyEnabled: pick(2)}
	case 2:
		b.Encryption = &emulator.Encryption{Algorithm: "aws:kms", KMSKeyID: keyARN(region, "alias/s3baseline"), BucketKeyEnabled: pick(2)}
	case 3:
		b.Encryption = &emulator.Encryption{Algorithm: "aws:kms", KMSKeyID: keyARN(region, "alias/team"), BucketKeyEnabled: true}
	case 4:
		b.Encryption = &emulator.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: keyARN(region, "alias/s3baseline")}
	case 5:
		b.Encryption = &emulator.Encryption{Algorithm: "aws:kms:dsse", KMSKeyID: keyARN(region, "alias/team")}
	}
	if b.Encryption != nil {
		switch r.IntN(3) {
		case 0:
			b.Encryption.BlockedEncryptionTypes = []string{"SSE-C"}
		case 1:
			b.Encryption.BlockedEncryptionTypes = []string{"NONE"}
		}
	}

	// The bucket policy: public, conditioned-public, private-by-condition,
	// cross-account, OAI, foreign Deny and stale statements of ours.
	pool := []string{
		`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + arn + `/*"}`,
		`{"Sid":"PublicReadTLS","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + arn + `/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`,
		`{"Sid":"RefererRead","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"` + arn + `/*","Condition":{"StringLike":{"aws:Referer":"https://www.example.com/*"}}}`,
		`{"Sid":"VpceOnly","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + arn + `/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`,
		`{"Sid":"AllButBob","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"s3:GetObject","Resource":"` + arn + `/*"}`,
		`{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["` + arn + `","` + arn + `/*"]}`,
		`{"Sid":"CloudFrontOAI","Effect":"Allow","Principal":{"AWS":"` + safetyOAI + `"},"Action":"s3:GetObject","Resource":"` + arn + `/*"}`,
		`{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"` + arn + `","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}`,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Etl"},"Action":"s3:PutObject","Resource":"` + arn + `/*"}`,
		`{"Sid":"S3BaselineDenyAdminPolicyChanges","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::123456789012:role/OldAdmin"]},"Action":["s3:DeleteBucketPolicy","s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":"` + arn + `"}`,
		string(plan.TLSStatement("", b.Name)),
	}
	// Readers from outside (public, partner, OAI) come up more often: they
	// are what an impact is about.
	var stmts []string
	for i, s := range pool {
		if pick(5) || (i <= 6 && pick(6)) {
			stmts = append(stmts, s)
		}
	}
	if len(stmts) > 0 {
		b.Policy = json.RawMessage(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
	}

	b.Website = pick(4)
	if pick(3) {
		b.Logging = &emulator.Logging{TargetBucket: "team-logs-" + region, TargetPrefix: b.Name + "/"}
	}
	var entries []emulator.NotificationEntry
	if pick(4) {
		entries = append(entries, emulator.NotificationEntry{ID: "ingest", Kind: "queue", ARN: "arn:aws:sqs:" + region + ":" + safetyAccount + ":ingest", Events: []string{"s3:ObjectCreated:Put"}})
	}
	if pick(4) {
		entries = append(entries, emulator.NotificationEntry{ID: "restored", Kind: "queue", ARN: "arn:aws:sqs:" + region + ":" + safetyAccount + ":ingest",
			Events: []string{"s3:ObjectRestore:Completed"}, FilterRules: []emulator.FilterRule{{Name: "prefix", Value: "archive/"}}})
	}
	if pick(5) {
		entries = append(entries, emulator.NotificationEntry{ID: "s3baseline", Kind: "topic", ARN: "arn:aws:sns:" + region + ":" + safetyAccount + ":old-events", Events: []string{"s3:ObjectCreated:*"}})
	}
	if len(entries) > 0 || pick(6) {
		b.Notifications = &emulator.Notifications{Entries: entries, EventBridge: pick(2)}
	}
	switch r.IntN(8) {
	case 0:
		b.Tags = map[string]string{"team": "analytics"}
	case 1:
		b.Tags = map[string]string{"aws:cloudformation:stack-name": "web-prod"}
	}
	genACL(r, &b)
	genVersioning(r, &b)
	return b
}

// genVersioning draws versioning, MFA delete, Object Lock and lifecycle:
// never enabled, Enabled or Suspended; MFA delete on some versioned
// buckets (then no lifecycle: S3 refuses the pair); Object Lock on some
// Enabled ones.
func genVersioning(r *rand.Rand, b *emulator.Bucket) {
	b.Versioning = []string{"", "", "Enabled", "Suspended"}[r.IntN(4)]
	if b.Versioning != "" && r.IntN(4) == 0 {
		b.MFADelete = true
		return
	}
	if b.Versioning == "Enabled" && r.IntN(4) == 0 {
		b.ObjectLock = &emulator.ObjectLock{}
	}
	if r.IntN(3) == 0 {
		b.Lifecycle = []emulator.LifecycleRule{{ID: "tmp", Status: "Enabled", Prefix: "tmp/", ExpirationDays: 7}}
	}
}

// safetyScenario is the account the generated buckets live in: our keys and
// a team's, the notification topic, a queue for foreign entries, a foreign
// team's log buckets.
func safetyScenario(buckets []emulator.Bucket) *emulator.Scenario {
	sc := &emulator.Scenario{AccountID: safetyAccount, CallerARN: safetyCaller, KMSKeys: safetyKeys()}
	for _, r := range safetyRegions {
		// old-events is where an earlier setup sent our entry: S3 may
		// publish to it, so that entry is a configuration S3 accepts.
		sc.SNSTopics = append(sc.SNSTopics, emulator.Destination{Region: r, Name: "s3baseline-events"}, emulator.Destination{Region: r, Name: "old-events",
			Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SNS:Publish","Resource":"arn:aws:sns:` + r + `:` + safetyAccount + `:old-events"}]}`)})
		sc.SQSQueues = append(sc.SQSQueues, emulator.Destination{Region: r, Name: "ingest",
			Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:` + r + `:` + safetyAccount + `:ingest"}]}`)})
		sc.Buckets = append(sc.Buckets, emulator.Bucket{Name: "team-logs-" + r, Region: r,
			Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::team-logs-` + r + `/*"}]}`)})
	}
	sc.Buckets = append(sc.Buckets, buckets...)
	return sc
}

const safetyConfig = `baseline: %s
settings:
  logging:
    target_bucket: "s3baseline-logs-{account}-{region}"
    target_prefix: "s3/"
    create_target: true
  encryption:
    kms_key: "alias/s3baseline"
    create_key: true
  notifications:
    topic: "s3baseline-events"
    events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    create_topic: true
  admin_lock:
    deny: ["arn:aws:iam::123456789012:role/LegacyFullAdmin"]
buckets:
  - match_tags: {team: analytics}
    exempt: [event_notifications, tls_only]
    reason: "analytics pipeline owns its notifications and reads over HTTP"
`

func TestSafetyModel(t *testing.T) {
	seed := *safetySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -safety.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var all []emulator.Bucket
	for i := range max(*safetyStates, 1) {
		all = append(all, genBucket(r, i))
	}
	isolateAWSEnv(t)
	for start := 0; start < len(all); start += safetyBatch {
		batch := all[start:min(start+safetyBatch, len(all))]
		for _, baseline := range []string{"low", "medium", "high"} {
			for _, allowImpact := range []bool{false, true} {
				name := fmt.Sprintf("states%d-%d/%s/allow-impact=%v", start, start+len(batch)-1, baseline, allowImpact)
				t.Run(name, func(t *testing.T) {
					runSafety(t, batch, baseline, allowImpact, false, seed)
				})
			}
		}
		// A signed plan, verified by apply: trusted, so each bucket is
		// observed and planned again at its turn only.
		for _, allowImpact := range []bool{false, true} {
			t.Run(fmt.Sprintf("states%d-%d/high/signed/allow-impact=%v", start, start+len(batch)-1, allowImpact), func(t *testing.T) {
				runSafety(t, batch, "high", allowImpact, true, seed)
			})
		}
		// Someone else writes between the plan and the apply.
		// With a signed plan only between the plan and the apply: there the
		// look at the bucket's turn is apply's first and last before the
		// writes, so "right after the first read" of an aspect the bucket
		// does not write is after its last, a moment no client can see (S3
		// has no conditional write of a bucket's configuration); an
		// unsigned plan's look at its turn is its second.
		for _, mode := range []struct{ during, signed bool }{{false, false}, {true, false}, {false, true}} {
			for _, allowImpact := range []bool{false, true} {
				t.Run(fmt.Sprintf("states%d-%d/interfered/during-apply=%v/signed=%v/allow-impact=%v", start, start+len(batch)-1, mode.during, mode.signed, allowImpact), func(t *testing.T) {
					runSafetyInterfered(t, batch, allowImpact, mode.during, mode.signed, rand.New(rand.NewPCG(seed, uint64(start))), seed)
				})
			}
		}
		// The event-driven path (one bucket planned and applied at a
		// time, from the plan's own observation) under the same promises.
		for _, allowImpact := range []bool{false, true} {
			t.Run(fmt.Sprintf("states%d-%d/event/allow-impact=%v", start, start+len(batch)-1, allowImpact), func(t *testing.T) {
				runSafetyEvents(t, batch, allowImpact, seed)
			})
		}
	}
}

// safetyEnv starts a fresh emulator with a batch and writes the safety
// config for baseline; it returns the server, the test's directory, the
// config's path and the batch's bucket names.
func safetyEnv(t *testing.T, batch []emulator.Bucket, baseline string, seed uint64) (*emulator.Server, string, string, []string) {
	t.Helper()
	sc := safetyScenario(slices.Clone(batch))
	if err := sc.Validate(); err != nil {
		t.Fatalf("generated scenario (seed %d): %v", seed, err)
	}
	srv, err := emulator.Start("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s3baseline.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(safetyConfig, baseline)), 0o600); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(batch))
	for i, b := range batch {
		names[i] = b.Name
	}
	return srv, dir, cfg, names
}

// runSafetyEvents feeds one PutBucketPolicy event per bucket of a batch to
// `event --mode apply` on a fresh emulator (baseline high), then checks
// what runSafety checks after apply, and that rolling back every event's
// journal, newest first, restores each bucket.
func runSafetyEvents(t *testing.T, batch []emulator.Bucket, allowImpact bool, seed uint64) {
	srv, dir, cfg, names := safetyEnv(t, batch, "high", seed)
	p := safetyPlan(t, cfg, srv)
	before := srv.Snapshot()
	access := readers(srv, names)
	var journals []string
	for i, b := range batch {
		journal := filepath.Join(dir, fmt.Sprintf("event-%d.jsonl", i))
		args := []string{"--config", cfg, "--endpoint-url", srv.URL(), "--mode", "apply", "--journal", journal}
		if allowImpact {
			args = append(args, "--allow-impact")
		}
		res := runEvent(t, trailEvent(t, handled(t, "PutBucketPolicy"), b.Region, b.Name, someone), args...)
		if res.code > 1 || strings.Contains(res.stderr, "panic") {
			t.Fatalf("%s (seed %d): event exited %d: %s", b.Name, seed, res.code, res.stderr)
		}
		if _, err := os.Stat(journal); err == nil {
			journals = append(journals, journal)
		}
	}
	if len(journals) == 0 {
		t.Fatalf("seed %d: no event of the batch wrote anything: the checks below would prove nothing", seed)
	}
	after := srv.Snapshot()
	for _, name := range names {
		for _, v := range weaker(before, after, name) {
			t.Errorf("%s (seed %d): weaker after the event: %s\nbefore %s\nafter  %s", name, seed, v, dump(before.Buckets[name]), dump(after.Buckets[name]))
		}
		for _, v := range lostForeign(before.Buckets[name], after.Buckets[name]) {
			t.Errorf("%s (seed %d): lost after the event: %s", name, seed, v)
		}
	}
	for _, v := range cutOff(p, access, readers(srv, names), allowImpact) {
		t.Errorf("seed %d: %s", seed, v)
	}
	for i := len(journals) - 1; i >= 0; i-- {
		if res := runCLI(t, "rollback", journals[i], "--endpoint-url", srv.URL(), "--auto-approve", "--journal", journals[i]+".rb"); res.code != 0 {
			t.Errorf("rollback %s exited %d: %s", journals[i], res.code, res.stderr)
		}
	}
	restored := srv.Snapshot()
	for _, name := range names {
		if d := cmp.Diff(documented(before.Buckets[name]), documented(restored.Buckets[name])); d != "" {
			t.Errorf("%s (seed %d): rollback of the events did not restore it (-before +after):\n%s", name, seed, d)
		}
	}
}

// runSafety is one plan, apply, plan, rollback of a batch on a fresh
// emulator.
func runSafety(t *testing.T, batch []emulator.Bucket, baseline string, allowImpact, signed bool, seed uint64) {
	srv, dir, cfg, names := safetyEnv(t, batch, baseline, seed)
	before := srv.Snapshot()
	access := readers(srv, names)

	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	// The config's rules are written for every batch; a batch need not hold
	// a bucket each rule matches.
	res := runCLI(t, append([]string{"plan", "--config", cfg, "--endpoint-url", srv.URL(), "--out", planFile, "--allow-empty"}, signFlags(signed)...)...)
	if res.code == 2 || strings.Contains(res.stderr, "panic") {
		t.Fatalf("plan exited %d: %s", res.code, res.stderr)
	}
	p, err := plan.ReadFile(planFile)
	if err != nil {
		t.Fatalf("plan exited %d without a plan file (seed %d): %v\nstderr: %s", res.code, seed, err, res.stderr)
	}
	args := append([]string{"apply", planFile, "--endpoint-url", srv.URL(), "--journal", journal}, signFlags(signed)...)
	if allowImpact {
		args = append(args, "--allow-impact")
	}
	res = runCLI(t, args...)
	if strings.Contains(res.stderr, "panic") {
		t.Fatalf("apply: %s", res.stderr)
	}
	checkVerified(t, signed, res)
	after := srv.Snapshot()
	for _, name := range names {
		b := before.Buckets[name]
		a := after.Buckets[name]
		bp := planned(p, name)
		for _, v := range weaker(before, after, name) {
			t.Errorf("%s (seed %d): weaker after apply: %s\nbefore %s\nafter  %s\nplan %s", name, seed, v, dump(b), dump(a), dump(bp))
		}
		for _, v := range lostForeign(b, a) {
			t.Errorf("%s (seed %d): lost after apply: %s", name, seed, v)
		}
	}
	for _, v := range cutOff(p, access, readers(srv, names), allowImpact) {
		t.Errorf("seed %d: %s", seed, v)
	}

	// A second plan: only held-back changes are left.
	p2 := safetyPlan(t, cfg, srv)
	for _, b := range p2.Buckets {
		if !slices.Contains(names, b.Name) && !strings.HasPrefix(b.Name, "s3baseline-logs-") {
			continue
		}
		for _, c := range b.Changes {
			if c.Action != plan.NoOp && c.HeldBack == "" && (len(c.Impact) == 0 || allowImpact) {
				t.Errorf("%s (seed %d): the second plan still has %s %s (%s); apply printed:\n%s\n%s", b.Name, seed, c.Action, c.Control, c.Reason, res.stdout, res.stderr)
			}
		}
	}

	// Rollback restores what was observed.
	if res := runCLI(t, "rollback", journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "rollback.jsonl")); res.code != 0 {
		if _, err := os.Stat(journal); err == nil {
			t.Errorf("rollback exited %d: %s", res.code, res.stderr)
		}
	}
	restored := srv.Snapshot()
	for _, name := range names {
		want, got := documented(before.Buckets[name]), documented(restored.Buckets[name])
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (seed %d): rollback did not restore it (-before +after):\n%s", name, seed, d)
		}
	}
	if d := cmp.Diff(before.AccountPublicAccessBlock, restored.AccountPublicAccessBlock); d != "" {
		t.Errorf("account Block Public Access not restored (-before +after):\n%s", d)
	}
	// The trail the run created is deleted again; keys the run created stay
	// (rollback never deletes one), but every key that was there has its
	// policy back.
	if d := cmp.Diff(before.Trails, restored.Trails); d != "" {
		t.Errorf("trails not restored (-before +after):\n%s", d)
	}
	for arn, k := range before.KMSKeys {
		if d := cmp.Diff(k, restored.KMSKeys[arn]); d != "" {
			t.Errorf("key %s not restored (-before +after):\n%s", arn, d)
		}
	}
	for arn, tp := range before.Topics {
		if d := cmp.Diff(tp, restored.Topics[arn]); d != "" {
			t.Errorf("topic %s not restored (-before +after):\n%s", arn, d)
		}
	}
}

func safetyPlan(t *testing.T, cfg string, srv *emulator.Server) *plan.Plan {
	t.Helper()
	res := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--json", "--allow-empty")
	var p plan.Plan
	if err := json.Unmarshal([]byte(res.stdout), &p); err != nil {
		t.Fatalf("plan --json exited %d: %v\n%s", res.code, err, res.stderr)
	}
	return &p
}

func planned(p *plan.Plan, name string) *plan.BucketPlan {
	for i := range p.Buckets {
		if p.Buckets[i].Name == name {
			return &p.Buckets[i]
		}
	}
	return nil
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// weaker lists the settings of a bucket that are weaker after than before.
func weaker(before, after emulator.Snapshot, name string) []string {
	b, a := before.Buckets[name], after.Buckets[name]
	var out []string
	eb := effectiveBPA(b.PublicAccessBlock, before.AccountPublicAccessBlock)
	ea := effectiveBPA(a.PublicAccessBlock, after.AccountPublicAccessBlock)
	for i, flag := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		if eb[i] && !ea[i] {
			out = append(out, "Block Public Access "+flag+" went off")
		}
	}
	if rank := map[string]int{"": 0, "ObjectWriter": 0, "BucketOwnerPreferred": 1, "BucketOwnerEnforced": 2}; rank[a.Ownership] < rank[b.Ownership] {
		out = append(out, "Object Ownership "+b.Ownership+" became "+a.Ownership)
	}
	if encRank(a.Encryption) < encRank(b.Encryption) {
		out = append(out, fmt.Sprintf("encryption %s became %s", dump(b.Encryption), dump(a.Encryption)))
	}
	if sseCBlocked(b.Encryption) && !sseCBlocked(a.Encryption) {
		out = append(out, "SSE-C was unblocked")
	}
	if b.Logging != nil && a.Logging == nil {
		out = append(out, "server access logging was turned off")
	}
	// Never enabled and Suspended are both off: S3 has nothing weaker.
	if b.Versioning == "Enabled" && a.Versioning != "Enabled" {
		out = append(out, "versioning Enabled became "+dump(a.Versioning))
	}
	if b.MFADelete != a.MFADelete {
		out = append(out, "MFA delete "+dump(b.MFADelete)+" became "+dump(a.MFADelete))
	}
	if !cmp.Equal(b.ObjectLock, a.ObjectLock) || !cmp.Equal(b.Lifecycle, a.Lifecycle) {
		out = append(out, "Object Lock or lifecycle changed: the tool only reports on them")
	}
	for _, s := range statements(b.Policy) {
		if s.Effect != "Deny" || settings.OwnedSid(s.Sid) {
			continue
		}
		if !slices.ContainsFunc(statements(a.Policy), func(o settings.Statement) bool { return o.Sid == s.Sid && o.Equivalent(s) }) {
			out = append(out, "the Deny statement "+dump(s.Sid)+" is gone")
		}
	}
	// The tool's own Denies are replaced by the config's, never dropped.
	for _, sid := range []string{settings.SidDenyInsecureTransport, settings.SidDenyAdminPolicyChanges} {
		if hasSid(b.Policy, sid) && !hasSid(a.Policy, sid) {
			out = append(out, "the Deny statement "+sid+" is gone")
		}
	}
	return out
}

func effectiveBPA(b, a *emulator.PublicAccessBlock) [4]bool {
	var e [4]bool
	for _, p := range []*emulator.PublicAccessBlock{b, a} {
		if p != nil {
			e[0], e[1], e[2], e[3] = e[0] || p.BlockPublicAcls, e[1] || p.IgnorePublicAcls, e[2] || p.BlockPublicPolicy, e[3] || p.RestrictPublicBuckets
		}
	}
	return e
}

// encRank orders default encryption by layers: none (a legacy bucket; S3
// encrypts new objects with SSE-S3 anyway) and SSE-S3, SSE-KMS, DSSE-KMS.
func encRank(e *emulator.Encryption) int {
	if e == nil {
		return 1
	}
	return map[string]int{"AES256": 1, "aws:kms": 2, "aws:kms:dsse": 3}[e.Algorithm]
}

func sseCBlocked(e *emulator.Encryption) bool {
	return e != nil && slices.Contains(e.BlockedEncryptionTypes, "SSE-C")
}

func statements(policy string) []settings.Statement {
	if policy == "" {
		return nil
	}
	doc, err := settings.ParsePolicy(policy)
	if err != nil {
		return nil
	}
	return doc.Statements
}

func hasSid(policy, sid string) bool {
	return slices.ContainsFunc(statements(policy), func(s settings.Statement) bool { return s.Sid == sid })
}

// lostForeign lists what of others' a bucket lost: a statement that is not
// the tool's, a notification entry that is not ours, the EventBridge
// switch, an ACL grant.
func lostForeign(b, a emulator.BucketSnapshot) []string {
	var out []string
	for _, s := range statements(b.Policy) {
		if settings.OwnedSid(s.Sid) {
			continue
		}
		if !slices.ContainsFunc(statements(a.Policy), func(o settings.Statement) bool { return o.Sid == s.Sid && o.Equivalent(s) }) {
			out = append(out, "the policy statement "+compactRaw(s.Raw))
		}
	}
	for _, e := range b.Notifications.Entries {
		if e.ID == settings.NotificationID {
			continue
		}
		if !slices.ContainsFunc(a.Notifications.Entries, func(o emulator.NotificationEntry) bool { return cmp.Equal(o, e) }) {
			out = append(out, "the notification entry "+dump(e))
		}
	}
	if b.Notifications.EventBridge && !a.Notifications.EventBridge {
		out = append(out, "the EventBridge switch")
	}
	out = append(out, lostGrants(b, a)...)
	return out
}

func compactRaw(raw json.RawMessage) string {
	return strings.Join(strings.Fields(string(raw)), "")
}

// documented is a bucket's state as rollback promises to restore it: a
// legacy bucket's missing default encryption comes back as SSE-S3 (AWS
// cannot remove default encryption since 2023) without an SSE-C block, as
// it was without a rule. Every other rule, its blocked types included,
// must come back exactly.
func documented(b emulator.BucketSnapshot) emulator.BucketSnapshot {
	if b.Encryption == nil {
		b.Encryption = &emulator.Encryption{Algorithm: "AES256"}
	}
	// Versioning cannot go back to never enabled: rollback suspends it.
	if b.Versioning == "" {
		b.Versioning = "Suspended"
	}
	return b
}

// cutOff lists the buckets that lost public access without the plan
// stating an impact, on the change that cut it, and --allow-impact. The
// change is the one the emulator's reason points at: a public ACL's
// readers are cut by IgnorePublicAcls or BucketOwnerEnforced, a public
// policy's by RestrictPublicBuckets, KMS readers by the encryption, HTTP
// readers by the TLS Deny; nothing else the tool writes may cut anyone.
func cutOff(p *plan.Plan, before, after map[string]map[string]emulator.AccessResult, allowImpact bool) []string {
	var out []string
	for name, was := range before {
		for who, b := range was {
			a := after[name][who]
			if !b.Allowed || a.Allowed {
				continue
			}
			// What can have cut the reader off: every control whose work
			// the reasons show. Access granted by ACLs ends with
			// BucketOwnerEnforced as well as with the BPA flags, whatever
			// stops the reader next (a public policy under
			// RestrictPublicBuckets, say).
			var by []settings.ControlID
			if strings.Contains(a.Reason, "RestrictPublicBuckets") {
				by = append(by, settings.BlockPublicAccess, settings.AccountBlockPublicAccess)
			}
			if strings.Contains(a.Reason, "KMS-encrypted") {
				by = append(by, settings.DefaultEncryption)
			}
			if strings.Contains(a.Reason, settings.SidDenyInsecureTransport) {
				by = append(by, settings.TLSOnly)
			}
			if strings.Contains(b.Reason, "ACL") {
				by = append(by, settings.BlockPublicAccess, settings.AccountBlockPublicAccess, settings.ObjectOwnership)
			}
			bp := planned(p, name)
			stated := func(c plan.Change) bool {
				if !slices.Contains(by, c.Control) {
					return false
				}
				if c.Control == settings.AccountBlockPublicAccess {
					return slices.ContainsFunc(c.Impact, func(i string) bool {
						names, _, ok := plan.ImpactBuckets(i)
						return ok && slices.Contains(names, name)
					})
				}
				return len(c.Impact) > 0
			}
			announced := allowImpact && ((bp != nil && slices.ContainsFunc(bp.Changes, stated)) || slices.ContainsFunc(p.AccountChanges, stated))
			if !announced {
				out = append(out, fmt.Sprintf("%s: %s lost access (%s; before: %s) without an impact in the plan on %v and --allow-impact (plan: %s)",
					name, who, a.Reason, b.Reason, by, dump(bp)))
			}
		}
	}
	return out
}

// genACL draws the bucket ACL's grants (only where ACLs are enabled: S3
// refuses them under BucketOwnerEnforced) and whether objects were uploaded
// public-read.
func genACL(r *rand.Rand, b *emulator.Bucket) {
	if b.Ownership == "BucketOwnerEnforced" || (!b.Legacy && b.Ownership == "") {
		return
	}
	owner := emulator.Grant{Type: "CanonicalUser", ID: canonicalOwner, Permission: "FULL_CONTROL"}
	pool := []emulator.Grant{
		{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"},
		{Type: "Group", URI: settings.GroupAuthenticatedUsers, Permission: "READ"},
		{Type: "Group", URI: settings.GroupLogDelivery, Permission: "WRITE"},
		{Type: "CanonicalUser", ID: "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0", Permission: "FULL_CONTROL"},
	}
	var grants []emulator.Grant
	for _, g := range pool {
		if r.IntN(5) == 0 {
			grants = append(grants, g)
		}
	}
	if len(grants) > 0 {
		b.ACL = append([]emulator.Grant{owner}, grants...)
	}
	b.PublicObjectACLs = r.IntN(4) == 0
}

// canonicalOwner is the emulator's canonical id of safetyAccount.
var canonicalOwner = func() string {
	srv := emulator.New(&emulator.Scenario{AccountID: safetyAccount, CallerARN: safetyCaller}, emulator.Options{})
	return srv.OwnerCanonicalID()
}()

// lostGrants lists the ACL grants a bucket lost: the tool never writes an
// ACL, so there must be none.
func lostGrants(b, a emulator.BucketSnapshot) []string {
	var out []string
	for _, g := range b.ACL {
		if !slices.Contains(a.ACL, g) {
			out = append(out, "the ACL grant "+dump(g))
		}
	}
	return out
}

// readerQueries are who the safety test asks the emulator about: anonymous
// readers of objects and of the listing, the website's visitors, and a
// CloudFront origin access identity.
var readerQueries = map[string]emulator.AccessQuery{
	"anonymous GetObject":   {Action: "s3:GetObject"},
	"anonymous ListBucket":  {Action: "s3:ListBucket"},
	"website visitor":       {Action: "s3:GetObject", Website: true, Referer: "https://www.example.com/index.html"},
	"CloudFront OAI":        {Action: "s3:GetObject", Principal: safetyOAI},
	"referred anonymous":    {Action: "s3:GetObject", Referer: "https://www.example.com/page"},
	"partner account":       {Action: "s3:GetObject", Principal: "arn:aws:iam::210987654321:role/Reader"},
	"public from a network": {Action: "s3:GetObject", SourceIP: "203.0.113.7"},
}

// readers asks the emulator who can read each bucket from outside the
// account.
func readers(srv *emulator.Server, names []string) map[string]map[string]emulator.AccessResult {
	out := map[string]map[string]emulator.AccessResult{}
	for _, name := range names {
		out[name] = map[string]emulator.AccessResult{}
		for who, q := range readerQueries {
			out[name][who] = srv.Access(name, q)
		}
	}
	return out
}
