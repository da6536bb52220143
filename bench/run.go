package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// configYAML is the config the main plan runs and the apply run use:
// testdata/apply.yaml's shape (the high baseline, the break-glass admin
// exempt from the policy lock, rules on names and tags), under which the
// generated scenario's compliant buckets comply. The tag rule makes every
// bucket's tags its first read, since its baseline depends on them: the
// worst case for calls per bucket.
const configYAML = configNamesYAML + tagRule

// configNamesYAML is the same config without the tag rule: rules by name
// only, the common case, where a bucket's tags are read only when it has
// changes.
const configNamesYAML = `baseline: high
settings:
  admin_lock:
    deny: ["` + emulator.GeneratedAdminRole + `"]
buckets:
  - match: "public-downloads-*"
    baseline: low
    reason: "public download site"
`

const tagRule = `  - match_tags: {team: analytics}
    exempt: [event_notifications]
    reason: "analytics pipeline owns its own notifications"
`

// Rule sets a plan can run with (-rules of the child).
const (
	rulesTags  = "tags"  // configYAML
	rulesNames = "names" // configNamesYAML
)

// configFor is the config text of a rule set.
func configFor(rules string) (string, error) {
	switch rules {
	case rulesTags, "":
		return configYAML, nil
	case rulesNames:
		return configNamesYAML, nil
	}
	return "", fmt.Errorf("unknown rule set %q (want %s or %s)", rules, rulesTags, rulesNames)
}

// loadConfig writes the rule set's config to dir and loads it the way the
// CLI does.
func loadConfig(dir, rules string) (*baselines.Config, string, error) {
	text, err := configFor(rules)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "s3baseline.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	cfg, err := baselines.LoadConfig(path)
	return cfg, path, err
}

// isolatedEnv is the environment of a plan process: stub credentials, a
// region, and none of the machine's AWS files or variables, so nothing on
// the host (a real profile, an endpoint override, IMDS) takes part.
func isolatedEnv(base []string) []string {
	var out []string
	for _, kv := range base {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return append(out,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// newProvider is the provider the CLI makes for --endpoint-url and
// --concurrency (adaptive for auto): the defaults, nothing tuned for the
// benchmark. sdkPool
// leaves the SDK's own connection pool (10 idle connections per host), for
// comparison.
func newProvider(ctx context.Context, endpoint string, concurrency int, sdkPool, adaptive bool) (*awsprovider.Provider, error) {
	o := awsprovider.Options{EndpointURL: endpoint, Concurrency: concurrency, Adaptive: adaptive}
	if sdkPool {
		o.Concurrency = 0
	}
	return awsprovider.New(ctx, o)
}

// writeOpOf is the S3 write that carries each control's change.
var writeOpOf = map[string]string{
	"block_public_access": "s3 PutPublicAccessBlock",
	"object_ownership":    "s3 PutBucketOwnershipControls",
	"default_encryption":  "s3 PutBucketEncryption",
	"block_sse_c":         "s3 PutBucketEncryption",
	"versioning":          "s3 PutBucketVersioning",
	"access_logging":      "s3 PutBucketLogging",
	"tls_only":            "s3 PutBucketPolicy",
	"admin_policy_lock":   "s3 PutBucketPolicy",
	"event_notifications": "s3 PutBucketNotificationConfiguration",
}

// result is what one plan (or plan and apply) process reports.
type result struct {
	Buckets       int            `json:"buckets"`
	PlanSeconds   float64        `json:"plan_seconds"`
	RenderSeconds float64        `json:"render_seconds"`
	BucketErrors  int            `json:"bucket_errors"`
	Changes       map[string]int `json:"changes"` // pending changes by control, account controls included
	ToChange      int            `json:"to_change"`
	// LogTargets counts the planned buckets that are their region's
	// server access log target, LogTargetsToChange those of them with
	// pending changes.
	LogTargets         int `json:"log_targets"`
	LogTargetsToChange int `json:"log_targets_to_change"`
	// ChangeWrites is the writes the pending bucket changes need, by
	// operation: one per bucket and operation (tls_only and
	// admin_policy_lock share one policy write).
	ChangeWrites map[string]int `json:"change_writes"`
	// Applicable counts the changes apply makes (Change.Applicable
	// without --allow-impact) in the buckets to change.
	Applicable int `json:"applicable"`

	ApplySeconds float64 `json:"apply_seconds,omitempty"`
	// The journal's writes (started records), by operation, in three
	// parts: BucketWrites to the plan's buckets for their planned
	// changes; SharedWrites to a shared resource on a bucket's behalf
	// (the region's log bucket's delivery grant, the topic's publish
	// grant); AccountWrites for the account changes (account Block Public
	// Access, the trail, its key's policy, its bucket's CloudTrail grant
	// and, when the tool created that bucket, its baseline).
	BucketWrites  map[string]int `json:"bucket_writes,omitempty"`
	SharedWrites  map[string]int `json:"shared_writes,omitempty"`
	AccountWrites map[string]int `json:"account_writes,omitempty"`
	// Mismatched lists the planned buckets whose journaled writes are not
	// exactly the ones their pending changes need, one write per
	// operation (at most 10 named; MismatchedCount counts them all).
	Mismatched      []string `json:"mismatched,omitempty"`
	MismatchedCount int      `json:"mismatched_count,omitempty"`
	// Created lists the resources the tool created ("created" records):
	// kind and name.
	Created []string `json:"created,omitempty"`
	// Outcomes counts the planned buckets' outcomes by status, and
	// BucketOutWrites sums their Outcome.Writes. NewOutcomes are the
	// outcomes of the buckets the tool created and brought to the
	// baseline; AccountOutcomes the account changes' (Control set,
	// Bucket empty).
	Outcomes        map[string]int   `json:"outcomes,omitempty"`
	BucketOutWrites int              `json:"bucket_outcome_writes,omitempty"`
	NewOutcomes     []accountOutcome `json:"new_outcomes,omitempty"`
	AccountOutcomes []accountOutcome `json:"account_outcomes,omitempty"`
	ApplyErrors     int              `json:"apply_errors,omitempty"` // failed, stale or skipped for the plan's errors
	TrailBucket     string           `json:"trail_bucket,omitempty"`

	// Limits are the adaptive windows at the end of the run (with
	// --concurrency auto): "service|region" -> {current, peak}.
	Limits map[string][2]float64 `json:"limits,omitempty"`

	// VmHWMKB is the process's peak resident set from /proc/self/status;
	// the parent also polls it while the process runs (runPeak).
	VmHWMKB int64 `json:"vmhwm_kb"`
}

// accountOutcome is one account change's apply.Outcome (Control), or a
// created bucket's (Bucket).
type accountOutcome struct {
	Control string `json:"control,omitempty"`
	Bucket  string `json:"bucket,omitempty"`
	Status  string `json:"status"`
	Writes  int    `json:"writes"`
	Err     string `json:"err,omitempty"`
}

// planOnce runs plan.Build like `s3baseline plan` does, and renders the
// plan as the CLI prints it (to nowhere).
func planOnce(ctx context.Context, prov *awsprovider.Provider, cfg *baselines.Config, concurrency int, res *result) (*plan.Plan, error) {
	start := time.Now()
	p, err := plan.Build(ctx, prov, plan.Options{Config: cfg, Concurrency: concurrency, ToolVersion: "bench"})
	if err != nil {
		return nil, err
	}
	res.PlanSeconds = time.Since(start).Seconds()
	start = time.Now()
	if err := plan.Render(io.Discard, p, plan.RenderOptions{}); err != nil {
		return nil, err
	}
	res.RenderSeconds = time.Since(start).Seconds()
	res.Buckets = len(p.Buckets)
	res.Changes, res.ChangeWrites = map[string]int{}, map[string]int{}
	for _, b := range p.Buckets {
		if len(b.Errors) > 0 {
			res.BucketErrors++
		}
		ops := neededOps(b)
		for op := range ops {
			res.ChangeWrites[op]++
		}
		for _, c := range b.Changes {
			if c.Action != plan.NoOp {
				res.Changes[string(c.Control)]++
			}
		}
		if len(ops) > 0 {
			res.ToChange++
			for _, c := range b.Changes {
				if c.Applicable(false) {
					res.Applicable++
				}
			}
		}
		if plan.LogTarget(cfg, p.Account, b.Region) == b.Name {
			res.LogTargets++
			if len(ops) > 0 {
				res.LogTargetsToChange++
			}
		}
	}
	for _, c := range p.AccountChanges {
		if c.Action != plan.NoOp {
			res.Changes[string(c.Control)]++
		}
	}
	return p, nil
}

// neededOps is the set of writes a bucket's applicable changes call for.
func neededOps(b plan.BucketPlan) map[string]bool {
	ops := map[string]bool{}
	for _, c := range b.Changes {
		// The bench applies without --allow-impact: a held change is not
		// written.
		if c.Applicable(false) {
			ops[writeOpOf[string(c.Control)]] = true
		}
	}
	return ops
}

// applyOnce applies p with a journal in dir, as `s3baseline apply
// PLANFILE` does (the plan checked whole first) or, trusted, as `apply
// --auto-approve` and a verified signed plan are, and sorts the journal's
// writes into bucket, shared and account writes.
func applyOnce(ctx context.Context, prov *awsprovider.Provider, cfg *baselines.Config, p *plan.Plan, concurrency int, dir string, trusted bool, res *result) error {
	j, err := apply.OpenJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		return err
	}
	defer j.Close()
	start := time.Now()
	outcomes, err := apply.Apply(ctx, prov, p, apply.Options{Journal: j, Concurrency: concurrency, Trusted: trusted})
	res.ApplySeconds = time.Since(start).Seconds()
	res.Outcomes = map[string]int{}
	planned := map[string]bool{}
	for _, b := range p.Buckets {
		planned[b.Name] = true
	}
	for _, o := range outcomes {
		if o.Status == apply.StatusFailed || o.Status == apply.StatusStale || errors.Is(o.Err, apply.ErrPlanErrors) {
			res.ApplyErrors++ // what Apply counts as an error of the run
		}
		ao := accountOutcome{Control: string(o.Control), Status: o.Status, Writes: o.Writes}
		if o.Err != nil {
			ao.Err = o.Err.Error()
		}
		switch {
		case o.Control != "":
			res.AccountOutcomes = append(res.AccountOutcomes, ao)
		case !planned[o.Bucket]:
			ao.Bucket = o.Bucket
			res.NewOutcomes = append(res.NewOutcomes, ao)
		default:
			res.Outcomes[o.Status]++
			res.BucketOutWrites += o.Writes
		}
	}
	if err != nil && res.ApplyErrors == 0 {
		res.ApplyErrors = 1 // the run's own, such as an interruption
	}
	records, err := apply.ReadJournal(j.Path())
	if err != nil {
		return err
	}
	res.TrailBucket = plan.TrailBucket(cfg, p.Account)
	sortJournal(p, res.TrailBucket, records, res)
	return nil
}

// sortJournal sorts the journal's writes into res's bucket, shared and
// account writes, lists what the tool created, and checks each planned
// bucket's writes against its pending changes.
func sortJournal(p *plan.Plan, trailBucket string, records []apply.Record, res *result) {
	planned := map[string]plan.BucketPlan{}
	for _, b := range p.Buckets {
		planned[b.Name] = b
	}
	res.BucketWrites, res.SharedWrites, res.AccountWrites = map[string]int{}, map[string]int{}, map[string]int{}
	perBucket := map[string]map[string]int{}
	for _, r := range records {
		if r.Status == apply.RecordCreated {
			name := r.Target
			if r.Kind == apply.KindBucket {
				name = r.Bucket
			}
			res.Created = append(res.Created, r.Kind+" "+name)
			continue
		}
		if r.Status != apply.RecordStarted {
			continue
		}
		op := journalOp[r.Kind+" "+r.Aspect]
		if op == "" {
			op = r.Kind + " " + r.Aspect
		}
		_, inPlan := planned[r.Bucket]
		switch {
		case slices.ContainsFunc(r.Controls, func(c settings.ControlID) bool { return !settings.IsBucketControl(c) }),
			r.Kind == apply.KindAccount, r.Kind == apply.KindTrail,
			r.Kind == apply.KindBucket && r.For == "" && !inPlan && r.Bucket == trailBucket:
			// An account change's write, or the baseline of the trail
			// bucket the tool created for it.
			res.AccountWrites[op]++
		case r.For != "", r.Kind != apply.KindBucket, !inPlan:
			// On a bucket's behalf, or a shared resource the tool created
			// (a region's log bucket) brought to its baseline.
			res.SharedWrites[op]++
		default:
			res.BucketWrites[op]++
			if perBucket[r.Bucket] == nil {
				perBucket[r.Bucket] = map[string]int{}
			}
			perBucket[r.Bucket][op]++
		}
	}
	for _, b := range p.Buckets {
		need, got := neededOps(b), perBucket[b.Name]
		ok := len(need) == len(got)
		for op, n := range got {
			ok = ok && need[op] && n == 1
		}
		if !ok {
			res.MismatchedCount++
			if len(res.Mismatched) < 10 {
				res.Mismatched = append(res.Mismatched, b.Name)
			}
		}
	}
}

// journalOp is the API operation of a journal record's write, by kind and
// aspect. A trail record is one provider PutTrail: CreateTrail or
// UpdateTrail, then event selectors, insight selectors and logging as
// they differ, so it has no single operation.
var journalOp = map[string]string{
	"bucket public_access_block":  "s3 PutPublicAccessBlock",
	"bucket ownership":            "s3 PutBucketOwnershipControls",
	"bucket encryption":           "s3 PutBucketEncryption",
	"bucket versioning":           "s3 PutBucketVersioning",
	"bucket logging":              "s3 PutBucketLogging",
	"bucket policy":               "s3 PutBucketPolicy",
	"bucket notifications":        "s3 PutBucketNotificationConfiguration",
	"topic policy":                "sns SetTopicAttributes",
	"key policy":                  "kms PutKeyPolicy",
	"account public_access_block": "s3control PutPublicAccessBlock",
	"trail trail":                 trailRecordOp,
}

// trailRecordOp is the operation column of trail records.
const trailRecordOp = "cloudtrail (trail record)"

// compliantScenario is an account of n buckets that all comply with the
// high baseline under configYAML but for a drift fraction of them, each
// with exactly one control drifted: GenerateScenario's log buckets and its
// compliant and drifted buckets, generated from a larger mix.
func compliantScenario(n int, drift float64, seed int64) *emulator.Scenario {
	sc := emulator.GenerateScenario(n*6, emulator.GenerateOptions{Seed: seed, DriftFraction: drift})
	var keep []emulator.Bucket
	for _, b := range sc.Buckets {
		switch {
		case len(keep) == n:
		case strings.HasPrefix(b.Name, "s3baseline-logs-"),
			strings.HasSuffix(b.Name, "-"+emulator.GenCompliant),
			strings.HasSuffix(b.Name, "-"+emulator.GenDrifted):
			keep = append(keep, b)
		}
	}
	sc.Buckets = keep
	return sc
}

// countKinds counts the drifted buckets and the log buckets of a
// generated scenario.
func countKinds(sc *emulator.Scenario) (drifted, logs int) {
	for _, b := range sc.Buckets {
		switch {
		case strings.HasSuffix(b.Name, "-"+emulator.GenDrifted):
			drifted++
		case strings.HasPrefix(b.Name, "s3baseline-logs-"):
			logs++
		}
	}
	return drifted, logs
}

func mustf(err error, format string, args ...any) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: "+format+": %v\n", append(args, err)...)
		os.Exit(1)
	}
}
