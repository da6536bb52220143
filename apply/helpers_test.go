package apply_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/fixtures/testenv"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// The integration tests run the real providers/aws provider, with the
// real AWS SDK, over HTTP against the emulator in fixtures/, seeded with
// the end-to-end scenario; plans are made by plan.Build from
// testdata/e2e.yaml, as `s3baseline plan` makes them.

const account = "123456789012"

// isolateEnv gives the SDK stub credentials and hides the machine's AWS
// files and variables.
func isolateEnv(t *testing.T) {
	t.Helper()
	testenv.IsolateAWS(t)
}

// scenario is the e2e scenario, for a test to adjust before starting.
func scenario(t *testing.T) *emulator.Scenario {
	t.Helper()
	sc, err := fixtures.Scenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// env is one test's emulator, provider and config.
type env struct {
	t    *testing.T
	srv  *emulator.Server
	prov *awsprovider.Provider
	cfg  *baselines.Config
	dir  string
}

func start(t *testing.T, sc *emulator.Scenario) *env {
	t.Helper()
	if sc == nil {
		sc = scenario(t)
	}
	cfg, err := baselines.LoadConfig("../testdata/e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bucketControlsOnly(cfg)
	srv, err := emulator.Start("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	isolateEnv(t)
	prov, err := awsprovider.New(context.Background(), awsprovider.Options{
		EndpointURL: srv.URL(), MaxAttempts: 2, CallTimeout: 10 * time.Second, PropagationTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, prov: prov, cfg: cfg, dir: t.TempDir()}
}

// bucketControlsOnly takes the account controls out of the config's
// baselines: these tests are about the bucket writes, and the trail and the
// account flags have tests of their own (account_test.go).
func bucketControlsOnly(cfg *baselines.Config) {
	strip := func(b *baselines.Baseline) *baselines.Baseline {
		if b == nil {
			return nil
		}
		c := b.Clone()
		c.Controls = slices.DeleteFunc(c.Controls, func(s baselines.ControlSpec) bool { return !settings.IsBucketControl(s.ID) })
		return c
	}
	cfg.Baseline = strip(cfg.Baseline)
	for i := range cfg.Rules {
		cfg.Rules[i].Baseline = strip(cfg.Rules[i].Baseline)
	}
}

func (e *env) plan() *plan.Plan {
	e.t.Helper()
	p, err := plan.Build(context.Background(), e.prov, plan.Options{Config: e.cfg, ToolVersion: "test"})
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p
}

func (e *env) journal(name string) *apply.Journal {
	e.t.Helper()
	j, err := apply.OpenJournal(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = j.Close() })
	return j
}

// apply applies p with the real provider (or p wrapped) and a new journal.
func (e *env) apply(p *plan.Plan, mod ...func(*apply.Options)) ([]apply.Outcome, *apply.Journal, error) {
	e.t.Helper()
	return e.applyWith(e.prov, p, mod...)
}

func (e *env) applyWith(prov apply.Provider, p *plan.Plan, mod ...func(*apply.Options)) ([]apply.Outcome, *apply.Journal, error) {
	e.t.Helper()
	j := e.journal("journal-" + time.Now().Format("150405.000000000") + ".jsonl")
	o := apply.Options{Config: e.cfg, Journal: j}
	for _, m := range mod {
		m(&o)
	}
	out, err := apply.Apply(context.Background(), prov, p, o)
	return out, j, err
}

// rollback rolls back everything journal path records.
func (e *env) rollback(path string) error {
	e.t.Helper()
	recs, err := apply.ReadJournal(path)
	if err != nil {
		e.t.Fatal(err)
	}
	// Closed at once: a second rollback of path continues this journal,
	// and an open journal is locked against every other writer.
	j := e.journal("rollback-" + filepath.Base(path))
	defer j.Close()
	return apply.Rollback(context.Background(), e.prov, apply.PlanRollback(recs), j, apply.RollbackOptions{})
}

// outcomes maps bucket names to outcomes.
func byBucket(out []apply.Outcome) map[string]apply.Outcome {
	m := map[string]apply.Outcome{}
	for _, o := range out {
		m[o.Bucket] = o
	}
	return m
}

// writesTo counts the successful mutating calls naming bucket.
func writesTo(calls []emulator.Call, bucket string) int {
	n := 0
	for _, c := range calls {
		if c.Bucket == bucket && c.Status >= 200 && c.Status < 300 {
			n++
		}
	}
	return n
}

// pendingBuckets lists the buckets of p with changes that are not no-ops.
func pendingBuckets(p *plan.Plan) []string {
	var out []string
	for _, b := range p.Buckets {
		for _, c := range b.Changes {
			if c.Action != plan.NoOp {
				out = append(out, b.Name)
				break
			}
		}
	}
	return out
}

// unapplied lists "bucket control" for every change of p that apply would
// make (not held back; with an impact only when allowImpact): after an
// apply, a new plan must have none.
func unapplied(p *plan.Plan, allowImpact bool) []string {
	var out []string
	for _, b := range p.Buckets {
		for _, c := range b.Changes {
			if c.Applicable(allowImpact) {
				out = append(out, b.Name+" "+string(c.Control))
			}
		}
	}
	return out
}

// flatten lists the one-line errors of a multierror, nested ones included.
func flatten(err error) []error {
	var me *multierror.Error
	if !errors.As(err, &me) {
		return []error{err}
	}
	var out []error
	for _, e := range me.Errors {
		out = append(out, flatten(e)...)
	}
	return out
}

func bucketPlan(t *testing.T, p *plan.Plan, name string) *plan.BucketPlan {
	t.Helper()
	for i := range p.Buckets {
		if p.Buckets[i].Name == name {
			return &p.Buckets[i]
		}
	}
	t.Fatalf("bucket %s not in the plan", name)
	return nil
}

// observe reads every aspect the tool manages of a bucket.
func (e *env) observe(name, region string) settings.BucketState {
	return e.prov.ObserveBucket(context.Background(), settings.BucketRef{Name: name, Region: region}, []settings.Aspect{
		settings.AspectPublicAccessBlock, settings.AspectOwnership, settings.AspectEncryption,
		settings.AspectLogging, settings.AspectPolicy, settings.AspectNotifications,
	})
}
