package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// configYAML is the config every run plans with: testdata/apply.yaml's
// shape (the high baseline, the break-glass admin exempt from the policy
// lock, rules on names and tags), under which the generated scenario's
// compliant buckets comply. The tag rule makes every bucket's tags the
// first read, as in an account whose config matches on tags.
const configYAML = `baseline: high
settings:
  admin_lock:
    principals: ["` + emulator.GeneratedAdminRole + `"]
buckets:
  - match: "public-downloads-*"
    baseline: low
    reason: "public download site"
  - match_tags: {team: analytics}
    exempt: [event_notifications]
    reason: "analytics pipeline owns its own notifications"
`

// loadConfig writes configYAML to dir and loads it the way the CLI does.
func loadConfig(dir string) (*baselines.Config, string, error) {
	path := filepath.Join(dir, "s3baseline.yaml")
	if err := os.WriteFile(path, []byte(configYAML), 0o600); err != nil {
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
// --concurrency: the defaults, nothing tuned for the benchmark. sdkPool
// leaves the SDK's own connection pool (10 idle connections per host), for
// comparison.
func newProvider(ctx context.Context, endpoint string, concurrency int, sdkPool bool) (*awsprovider.Provider, error) {
	o := awsprovider.Options{EndpointURL: endpoint, Concurrency: concurrency}
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
	Changes       map[string]int `json:"changes"` // pending changes by control
	ToChange      int            `json:"to_change"`
	// ChangeWrites is the writes the pending changes need, by operation:
	// one per bucket and operation (tls_only and admin_policy_lock share
	// one policy write).
	ChangeWrites map[string]int `json:"change_writes"`

	ApplySeconds float64 `json:"apply_seconds,omitempty"`
	// OwnWrites and SharedWrites are the writes the journal records, by
	// operation: to the bucket being applied, and to a shared resource
	// on its behalf (the log bucket's delivery grant, the topic's grant).
	OwnWrites    map[string]int `json:"own_writes,omitempty"`
	SharedWrites map[string]int `json:"shared_writes,omitempty"`
	Outcomes     map[string]int `json:"outcomes,omitempty"`
	Writes       int            `json:"writes,omitempty"`
	ApplyErrors  int            `json:"apply_errors,omitempty"`

	// VmHWMKB is the process's peak resident set from /proc/self/status;
	// the parent also reads it from wait4's rusage.
	VmHWMKB int64 `json:"vmhwm_kb"`
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
		ops := map[string]bool{}
		for _, c := range b.Changes {
			if c.Action != plan.NoOp {
				res.Changes[string(c.Control)]++
				ops[writeOpOf[string(c.Control)]] = true
			}
		}
		for op := range ops {
			res.ChangeWrites[op]++
		}
		if len(ops) > 0 {
			res.ToChange++
		}
	}
	return p, nil
}

// applyOnce applies p like `s3baseline apply --auto-approve` does, with a
// journal in dir.
func applyOnce(ctx context.Context, prov *awsprovider.Provider, p *plan.Plan, concurrency int, dir string, res *result) error {
	j, err := apply.OpenJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		return err
	}
	defer j.Close()
	start := time.Now()
	outcomes, err := apply.Apply(ctx, prov, p, apply.Options{Journal: j, Concurrency: concurrency})
	res.ApplySeconds = time.Since(start).Seconds()
	res.Outcomes = map[string]int{}
	for _, o := range outcomes {
		res.Outcomes[o.Status]++
		res.Writes += o.Writes
	}
	if err != nil {
		res.ApplyErrors = strings.Count(err.Error(), "\n") + 1
	}
	records, err := apply.ReadJournal(j.Path())
	if err != nil {
		return err
	}
	res.OwnWrites, res.SharedWrites = map[string]int{}, map[string]int{}
	for _, r := range records {
		if r.Status != apply.RecordStarted {
			continue
		}
		op := journalOp[r.Kind+" "+r.Aspect]
		if op == "" {
			op = r.Kind + " " + r.Aspect
		}
		if r.For != "" {
			res.SharedWrites[op]++
		} else {
			res.OwnWrites[op]++
		}
	}
	return nil
}

// journalOp is the API operation of a journal record's write, by kind and
// aspect.
var journalOp = map[string]string{
	"bucket public_access_block": "s3 PutPublicAccessBlock",
	"bucket ownership":           "s3 PutBucketOwnershipControls",
	"bucket encryption":          "s3 PutBucketEncryption",
	"bucket logging":             "s3 PutBucketLogging",
	"bucket policy":              "s3 PutBucketPolicy",
	"bucket notifications":       "s3 PutBucketNotificationConfiguration",
	"topic policy":               "sns SetTopicAttributes",
}

// vmHWM reads this process's peak resident set size in KiB.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

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
