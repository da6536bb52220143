package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/apply"
)

// Targets the report is measured against (not asserted anywhere).
const (
	targetN           = 10000
	targetC           = 64
	targetEfficiency  = 0.8
	targetCallsBucket = 7.0
	targetRSSMB       = 150
)

type report struct {
	Latency   time.Duration
	Jitter    float64
	Seed      int64
	Quick     bool
	SDKPool   bool
	GoVersion string
	CPUs      int
	OS        string
	Elapsed   time.Duration

	Overhead []run // no injected latency: concurrency 1, then 64
	Plans    []run // the config with a rule on tags (configYAML)
	Names    run   // one plan with rules by name only (configNamesYAML)
	Apply    applyReport

	Throttled run      // auto, with injected SlowDown
	Streamed  []cliRun // the binary: plan --out, plan --json, show
	Org       []cliRun // the binary: plan --accounts all
}

type applyReport struct {
	run
	Drifted    int
	LogBuckets int
	Drift      float64
	// PlanCalls and ApplyCalls are the calls of the plan's process and of
	// the apply's (reading the saved plan); run.Calls is their sum.
	PlanCalls, ApplyCalls map[string]int
	ApplyRSSKB            int64
	// Names is the same account planned with rules by name only.
	Names run
	// Auto is the same drifted account applied as `apply --auto-approve`
	// does, on a fresh emulator: its own plan, trusted.
	Auto autoReport
}

// autoReport is one `apply --auto-approve` run: the plan's calls and the
// apply's, counted apart.
type autoReport struct {
	Result                result
	PlanCalls, ApplyCalls map[string]int
	RSSKB                 int64
}

// bound is the wall time a perfectly parallel run could not beat: every
// call's latency, spread over the workers.
func (r run) bound() time.Duration {
	return time.Duration(float64(r.totalCalls()) * float64(r.Latency) / float64(r.Concurrency))
}

func (r run) planWall() time.Duration {
	return time.Duration(r.Result.PlanSeconds * float64(time.Second))
}

func (r run) efficiency() float64 {
	return r.bound().Seconds() / r.Result.PlanSeconds
}

func (r run) callsPerBucket() float64 { return float64(r.totalCalls()) / float64(r.Buckets) }

func (r run) rssMB() float64 { return float64(r.MaxRSSKB) / 1024 }

func (rep *report) find(n, c int) (run, bool) {
	for _, r := range rep.Plans {
		if r.Buckets == n && r.Concurrency == c {
			return r, true
		}
	}
	return run{}, false
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// writeVerbs are the operation name prefixes of the APIs' writes.
var writeVerbs = []string{"Put", "Delete", "Create", "Set", "Start", "Stop", "Update", "Enable", "Disable",
	"Tag", "Untag", "Attach", "Detach", "Add", "Remove", "Modify", "Subscribe", "Unsubscribe"}

func isWrite(op string) bool {
	_, name, _ := strings.Cut(op, " ")
	return slices.ContainsFunc(writeVerbs, func(p string) bool { return strings.HasPrefix(name, p) })
}

// isBucketRead reports whether op reads one bucket's configuration (an S3
// call on a bucket), as opposed to a read made once per run, region or key
// (identity, account settings, the bucket list, KMS keys, trails, IAM,
// Shield).
func isBucketRead(op string) bool {
	svc, name, _ := strings.Cut(op, " ")
	return svc == "s3" && name != "ListBuckets" && !isWrite(op)
}

const (
	opTags    = "s3 GetBucketTagging"
	opWebsite = "s3 GetBucketWebsite"
)

// reads is a plan run's calls per bucket, split by why they are made.
type reads struct {
	Tags, Website float64 // GetBucketTagging, GetBucketWebsite
	Aspects       float64 // the other bucket reads: one per aspect checked
	AspectOps     []string
	Account       float64 // reads once per run, region or key
	AccountCalls  int
	AccountOps    []string
}

func (r run) reads() reads {
	var x reads
	n := float64(r.Buckets)
	for _, op := range slices.Sorted(maps.Keys(r.Calls)) {
		c := r.Calls[op]
		switch {
		case op == opTags:
			x.Tags = float64(c) / n
		case op == opWebsite:
			x.Website = float64(c) / n
		case isBucketRead(op):
			x.Aspects += float64(c) / n
			x.AspectOps = append(x.AspectOps, op)
		default:
			x.Account += float64(c) / n
			x.AccountCalls += c
			x.AccountOps = append(x.AccountOps, op)
		}
	}
	return x
}

// rulesLabel names a run's config.
func (r run) rulesLabel() string {
	if r.Rules == rulesNames {
		return "rules by name only"
	}
	return "a rule matching on tags"
}

// tagsWhy says when a run's config reads a bucket's tags.
func (r run) tagsWhy() string {
	if r.Rules == rulesNames {
		return "only for buckets with changes: whether CloudFormation manages them"
	}
	return "every bucket, first: its baseline depends on them"
}

// callsText is a plan run's calls per bucket and what they are.
func (r run) callsText() string {
	x := r.reads()
	return fmt.Sprintf("%.2f (%d calls / %d buckets) = %.2f reads of the %d aspects the controls are judged from + %.2f GetBucketTagging (%s) + %.2f GetBucketWebsite (the %d buckets about to get Block Public Access) + %.3f account reads (%d calls, once per run, region or key)",
		r.callsPerBucket(), r.totalCalls(), r.Buckets, x.Aspects, len(x.AspectOps), x.Tags, r.tagsWhy(),
		x.Website, r.Result.Changes["block_public_access"], x.Account, x.AccountCalls)
}

// callsPair is the tag-rule run to compare with the names-only run: the
// same N at the same concurrency, else at any.
func (rep *report) callsPair() (tags, names run, ok bool) {
	names = rep.Names
	if names.Buckets == 0 {
		return run{}, run{}, false
	}
	if t, ok := rep.find(names.Buckets, names.Concurrency); ok {
		return t, names, true
	}
	for _, t := range rep.Plans {
		if t.Buckets == names.Buckets {
			return t, names, true
		}
	}
	return run{}, names, false
}

func (rep *report) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("# s3baseline at scale: benchmark results")
	p("")
	p("Generated by `make bench` (`go run ./bench -out bench/results.md`). Every run is the real `plan.Build`")
	p("(and `apply.Apply`) with the real `providers/aws` provider and AWS SDK over HTTP against the emulator, which")
	p("adds %v ± %.0f%% (uniform) to every request. The emulator runs in the driver; each plan runs in a child", rep.Latency, rep.Jitter*100)
	p("process, whose peak RSS (its VmHWM, read until it exits: bench/rss.go) is the plan's alone. Accounts come from")
	p("`emulator.GenerateScenario` (seed %d): 30%% legacy, 40%% modern-default, 20%% compliant, 10%% with other", rep.Seed)
	p("teams' statements and notifications, over 4 regions, planned against the high baseline with a rule matching on")
	p("tags (the worst case for calls per bucket), and once with rules by name only (config: `bench/run.go`).")
	p("")
	p("Machine: %s, %d CPUs, %s. Whole run: %s.", rep.OS, rep.CPUs, rep.GoVersion, rep.Elapsed.Round(time.Second))
	if rep.SDKPool {
		p("")
		p("**With the SDK's default connection pool** (`-sdk-pool`: 10 idle connections per host), for comparison.")
	}
	if rep.Quick {
		p("")
		p("**Quick run** (N = 100 and 1,000 only): the N = 10,000 targets are not measured.")
	}
	p("")
	p("Definitions: *calls* are the requests the emulator served during the run, of every service (%s), the", strings.Join(rep.services(), ", "))
	p("account controls' reads made once per run included. *Calls/bucket* = calls / buckets. *Bound* = calls × latency /")
	p("concurrency, the wall time of a perfectly parallel run. *Efficiency* = bound / wall time of `plan.Build`.")
	p("*Peak RSS* is the plan process's.")

	rep.writeTargets(p)
	rep.writeOverhead(p)
	rep.writePlans(p)
	rep.writeOps(p)
	rep.writeMemory(p)
	rep.writeApply(p)
	rep.writeApplyCalls(p)
	rep.writeAdaptive(p)
	rep.writeStreamed(p)
	rep.writeOrg(p)
}

// services lists the services the plan runs called.
func (rep *report) services() []string {
	set := map[string]bool{}
	for _, r := range append(slices.Clone(rep.Plans), rep.Names) {
		for op := range r.Calls {
			svc, _, _ := strings.Cut(op, " ")
			set[svc] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (rep *report) writeTargets(p func(string, ...any)) {
	p("")
	p("## Against the targets")
	p("")
	p("| target | measured | met |")
	p("|---|---|---|")
	if r, ok := rep.find(targetN, targetC); ok {
		p("| N=10,000, C=64, L=%v: efficiency ≥ %.1f | %.2f (%s for a bound of %s) | %s |", rep.Latency, targetEfficiency,
			r.efficiency(), secs(r.planWall()), secs(r.bound()), yes(r.efficiency() >= targetEfficiency))
	} else {
		p("| N=10,000, C=64: efficiency, peak RSS | not run | – |")
	}
	tags, names, pair := rep.callsPair()
	for _, r := range []run{names, tags} {
		if r.Buckets == 0 {
			continue
		}
		at := fmt.Sprintf("N=%d, C=%d", r.Buckets, r.Concurrency)
		if r.Buckets != targetN {
			at += ", not the target's N=10,000"
		}
		p("| ≤ %.0f API calls per bucket for plan, %s (%s) | %s | %s |", targetCallsBucket, r.rulesLabel(), at,
			r.callsText(), yes(r.callsPerBucket() <= targetCallsBucket))
	}
	if r, ok := rep.find(targetN, targetC); ok {
		p("| peak RSS ≤ %d MB | %.0f MiB | %s |", targetRSSMB, r.rssMB(), yes(r.rssMB()*1.048576 <= targetRSSMB))
	}
	if per, ok := rep.perBucketBytes(); ok {
		p("| memory linear in N | %s | – |", per)
	}
	if len(rep.Overhead) > 0 {
		o := rep.Overhead[0]
		perCall := time.Duration(float64(o.planWall()) / float64(o.totalCalls()))
		p("| emulator not the bottleneck | %v per call at concurrency 1 with no injected latency (%.1f%% of %v), client and SDK included | %s |",
			perCall.Round(time.Microsecond), 100*perCall.Seconds()/rep.Latency.Seconds(), rep.Latency, yes(perCall < rep.Latency/20))
	}
	a := rep.Apply
	if a.Buckets > 0 {
		p("| apply writes only the drifted controls | %s | %s |", a.writesText(), yes(a.exact()))
	}
	rep.writeScaleTargets(p)
	if pair {
		p("")
		p("%s", callsVerdict(tags, names))
	}
}

// callsVerdict says, from the two runs, which config meets the calls per
// bucket target and why the other does not.
func callsVerdict(tags, names run) string {
	var met, missed []string
	for _, r := range []run{names, tags} {
		s := fmt.Sprintf("%s (%.2f)", r.rulesLabel(), r.callsPerBucket())
		if r.callsPerBucket() <= targetCallsBucket {
			met = append(met, s)
		} else {
			missed = append(missed, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Calls per bucket are all the plan's calls divided by its buckets, the account reads included. ")
	switch {
	case len(missed) == 0:
		fmt.Fprintf(&b, "The ≤ %.0f target is met with both configs: %s.", targetCallsBucket, strings.Join(met, " and "))
	case len(met) == 0:
		fmt.Fprintf(&b, "The ≤ %.0f target is met with neither config: %s.", targetCallsBucket, strings.Join(missed, " and "))
	default:
		fmt.Fprintf(&b, "The ≤ %.0f target is met with %s and not with %s.", targetCallsBucket, met[0], missed[0])
	}
	t, n := tags.reads(), names.reads()
	if tags.callsPerBucket() > targetCallsBucket {
		fmt.Fprintf(&b, " When a rule matches on tags, a bucket's tags are a required read: its baseline, and so which of"+
			" its aspects are read, depends on them. Every bucket then costs its tags (%.2f) and its aspect reads (%.2f),"+
			" %.2f before GetBucketWebsite (%.2f) and the account reads (%.3f).",
			t.Tags, t.Aspects, t.Tags+t.Aspects, t.Website, t.Account)
	}
	if names.Buckets > 0 {
		fmt.Fprintf(&b, " With rules by name only, a compliant bucket costs its aspect reads alone; a bucket with changes"+
			" also its tags (whether CloudFormation manages it), and one about to get Block Public Access its website."+
			" Here %d of %d buckets have changes and %d are about to get Block Public Access: %.2f = aspects %.2f +"+
			" tags %.2f + GetBucketWebsite %.2f + account %.3f.",
			names.Result.ToChange, names.Buckets, names.Result.Changes["block_public_access"], names.callsPerBucket(),
			n.Aspects, n.Tags, n.Website, n.Account)
		if names.callsPerBucket() > targetCallsBucket {
			fmt.Fprintf(&b, " It is over %.0f because %.0f%% of the generated buckets have changes: their tags and"+
				" websites add %.2f per bucket to the %.2f of aspect and account reads.",
				targetCallsBucket, 100*float64(names.Result.ToChange)/float64(names.Buckets), n.Tags+n.Website, n.Aspects+n.Account)
		}
	}
	return b.String()
}

func (rep *report) writeOverhead(p func(string, ...any)) {
	if len(rep.Overhead) == 0 {
		return
	}
	p("")
	p("## The emulator's own latency")
	p("")
	p("The same plan with no injected latency: what a request costs the emulator, the SDK and the loopback")
	p("together. At concurrency 1 that is the round trip of one request; at 64 it is what this machine can")
	p("serve and send at most (emulator and client share its CPUs).")
	p("")
	p("| N | concurrency | wall | calls | per call | calls/s |")
	p("|---:|---:|---:|---:|---:|---:|")
	for _, o := range rep.Overhead {
		p("| %d | %d | %s | %d | %v | %.0f |", o.Buckets, o.Concurrency, secs(o.planWall()), o.totalCalls(),
			time.Duration(float64(o.planWall())/float64(o.totalCalls())).Round(time.Microsecond), float64(o.totalCalls())/o.Result.PlanSeconds)
	}
	if len(rep.Overhead) > 1 {
		max := rep.Overhead[len(rep.Overhead)-1]
		rate := float64(max.totalCalls()) / max.Result.PlanSeconds
		p("")
		p("With %v per request, concurrency C needs C / %v = %.0f calls/s at C = 64 and %.0f at C = 128; the machine",
			rep.Latency, rep.Latency, 64/rep.Latency.Seconds(), 128/rep.Latency.Seconds())
		p("serves about %.0f calls/s with no latency at all (client and emulator sharing its CPUs). Where a run", rate)
		p("falls short of its bound, the rest is its serial start (identity, account settings and the bucket")
		p("list: calls made one after another before any bucket is read), its tail (the last buckets finish")
		p("while other workers are idle), both weighing more the shorter the run, and, near that ceiling, CPU.")
	}
}

func (rep *report) writePlans(p func(string, ...any)) {
	p("")
	p("## Plan")
	p("")
	p("With a rule matching on tags (the config every table but the last column of the next one uses):")
	p("")
	p("| N | concurrency | plan wall | bound | efficiency | buckets/s | calls | calls/bucket | peak RSS | render | errors |")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(r run) {
		// Concurrency 0 is auto: no fixed worker count, so no bound.
		conc, bound, eff := fmt.Sprint(r.Concurrency), secs(r.bound()), fmt.Sprintf("%.2f", r.efficiency())
		if r.Concurrency == 0 {
			conc, bound, eff = "auto", "–", "–"
		}
		p("| %d | %s | %s | %s | %s | %.0f | %d | %.2f | %.0f MiB | %s | %d |", r.Buckets, conc,
			secs(r.planWall()), bound, eff, float64(r.Buckets)/r.Result.PlanSeconds,
			r.totalCalls(), r.callsPerBucket(), r.rssMB(), secs(time.Duration(r.Result.RenderSeconds*float64(time.Second))), r.Result.BucketErrors)
	}
	for _, r := range rep.Plans {
		row(r)
	}
	if rep.Names.Buckets > 0 {
		p("")
		p("With rules by name only (the same config without its `match_tags` rule):")
		p("")
		p("| N | concurrency | plan wall | bound | efficiency | buckets/s | calls | calls/bucket | peak RSS | render | errors |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		row(rep.Names)
	}
	p("")
	p("*calls/bucket* is all calls / buckets, the account reads included. *render* is printing the plan as text")
	p("(to nowhere), after `plan.Build`. *errors* counts buckets the plan could not observe (none expected).")
}

func (rep *report) writeOps(p func(string, ...any)) {
	// One run per N: the one at the target concurrency, else the first;
	// then the run with rules by name only.
	var runs []run
	for _, r := range rep.Plans {
		if r.Concurrency == targetC || !slices.ContainsFunc(rep.Plans, func(o run) bool { return o.Buckets == r.Buckets && o.Concurrency == targetC }) {
			if !slices.ContainsFunc(runs, func(o run) bool { return o.Buckets == r.Buckets }) {
				runs = append(runs, r)
			}
		}
	}
	if rep.Names.Buckets > 0 {
		runs = append(runs, rep.Names)
	}
	if len(runs) == 0 {
		return
	}
	ops := map[string]bool{}
	for _, r := range runs {
		for op := range r.Calls {
			ops[op] = true
		}
	}
	p("")
	p("## Plan: API calls per bucket, by operation")
	p("")
	p("Each operation with its service; every call of the run counts, those made once per run, region or key")
	p("(identity, account settings and controls, the bucket list, KMS keys) included, divided by the buckets.")
	p("")
	head, sep := "| operation |", "|---|"
	for _, r := range runs {
		if r.Rules == rulesNames {
			head += fmt.Sprintf(" N=%d, names only |", r.Buckets)
		} else {
			head += fmt.Sprintf(" N=%d |", r.Buckets)
		}
		sep += "---:|"
	}
	p("%s", head)
	p("%s", sep)
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		line := "| " + op + " |"
		for _, r := range runs {
			line += fmt.Sprintf(" %.3f |", float64(r.Calls[op])/float64(r.Buckets))
		}
		p("%s", line)
	}
	line := "| **total** |"
	for _, r := range runs {
		line += fmt.Sprintf(" **%.3f** |", r.callsPerBucket())
	}
	p("%s", line)
	p("")
	var acct []string
	for _, r := range runs {
		s := fmt.Sprintf("%d calls at N=%d", r.reads().AccountCalls, r.Buckets)
		if r.Rules == rulesNames {
			s += " with names only"
		}
		acct = append(acct, s)
	}
	last := runs[len(runs)-1]
	p("The reads that are not of one bucket are made once per run, region or key (%s):",
		strings.Join(last.reads().AccountOps, ", "))
	p("%s, so they weigh 1/N per bucket. The bucket reads, per bucket:", strings.Join(acct, ", "))
	p("")
	for _, r := range runs {
		if r.Buckets != last.Buckets {
			continue
		}
		x := r.reads()
		p("- %s, N=%d: %.3f reads of the %d aspects the baseline's controls are judged from, one", r.rulesLabel(), r.Buckets, x.Aspects, len(x.AspectOps))
		p("  operation each (below 1 where a bucket does not need the aspect: a region's log bucket is not checked")
		p("  for access logging, a low-baseline or exempted bucket checks fewer controls); GetBucketTagging %.3f,", x.Tags)
		p("  %s (%d of the %d buckets have changes); GetBucketWebsite %.3f, only for", r.tagsWhy(), r.Result.ToChange, r.Buckets, x.Website)
		p("  the %d buckets about to get Block Public Access, to warn before a public website is cut off.", r.Result.Changes["block_public_access"])
	}
}

// perBucketBytes is the growth of peak RSS per bucket between the two
// largest sizes at the target concurrency.
func (rep *report) perBucketBytes() (string, bool) {
	var rs []run
	for _, r := range rep.Plans {
		if r.Concurrency == targetC {
			rs = append(rs, r)
		}
	}
	if len(rs) < 2 {
		return "", false
	}
	a, b := rs[len(rs)-2], rs[len(rs)-1]
	per := float64(b.MaxRSSKB-a.MaxRSSKB) * 1024 / float64(b.Buckets-a.Buckets)
	return fmt.Sprintf("%.0f MiB at N=%d, %.0f MiB at N=%d: %.1f KiB per bucket", a.rssMB(), a.Buckets, b.rssMB(), b.Buckets, per/1024), true
}

func (rep *report) writeMemory(p func(string, ...any)) {
	p("")
	p("## Memory")
	p("")
	p("| N | concurrency | peak RSS (polled) | VmHWM (child's own) |")
	p("|---:|---:|---:|---:|")
	for _, r := range rep.Plans {
		p("| %d | %d | %.1f MiB | %.1f MiB |", r.Buckets, r.Concurrency, r.rssMB(), float64(r.Result.VmHWMKB)/1024)
	}
	if per, ok := rep.perBucketBytes(); ok {
		p("")
		p("Growth with N at concurrency %d: %s. The plan keeps every bucket's changes (before, after,", targetC, per)
		p("reason, NIST controls: about 3.5 KB of JSON, 4–5 KiB of live heap per bucket) until it is printed, and")
		p("Go's collector lets the heap grow to about twice what is live (GOGC=100); the rest (runtime, SDK")
		p("clients, connections) does not grow with N.")
	}
}

// neededWrites is the bucket-configuration writes the plan's pending
// changes call for.
func (a applyReport) neededWrites() int { return total(a.Result.ChangeWrites) }

// oneCall reports whether every journal record of op is exactly one call
// of that operation (not so for a trail record, one PutTrail of several).
func oneCall(op string) bool {
	return op != trailRecordOp && slices.Contains(slices.Collect(maps.Values(journalOp)), op)
}

// journaled is the journal's writes of op, all parts together.
func (a applyReport) journaled(op string) int {
	return a.Result.BucketWrites[op] + a.Result.SharedWrites[op] + a.Result.AccountWrites[op]
}

// unmatched lists the one-call operations whose journal count differs
// from what the emulator received, and the writes the emulator received
// that no journal record accounts for (not a one-call operation, a
// creation or a trail write).
func (a applyReport) unmatched() []string {
	var out []string
	ops := map[string]bool{}
	for _, m := range []map[string]int{a.Result.BucketWrites, a.Result.SharedWrites, a.Result.AccountWrites} {
		for op := range m {
			ops[op] = true
		}
	}
	for op, c := range a.Calls {
		if isWrite(op) && c > 0 {
			ops[op] = true
		}
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		switch {
		case op == trailRecordOp:
		case oneCall(op):
			if a.journaled(op) != a.Calls[op] {
				out = append(out, fmt.Sprintf("%s: journal %d, emulator %d", op, a.journaled(op), a.Calls[op]))
			}
		case !a.createdOrTrail(op):
			out = append(out, fmt.Sprintf("%s: emulator %d, journal %d", op, a.Calls[op], a.journaled(op)))
		}
	}
	return out
}

// createdOrTrail reports whether op is a write the journal records as a
// creation ("created" records: a bucket, key or topic) or as part of a
// trail record. Such writes are made only when the journal has one.
func (a applyReport) createdOrTrail(op string) bool {
	svc, name, _ := strings.Cut(op, " ")
	kinds := map[string]bool{}
	for _, c := range a.Result.Created {
		k, _, _ := strings.Cut(c, " ")
		kinds[k] = true
	}
	switch {
	case svc == "cloudtrail":
		return a.Result.AccountWrites[trailRecordOp] > 0
	case op == "s3 CreateBucket":
		return kinds["bucket"]
	case svc == "kms" && (name == "CreateKey" || name == "CreateAlias"):
		return kinds["key"]
	case op == "sns CreateTopic":
		return kinds["topic"]
	}
	return false
}

// exact is the apply target: writes were made to the buckets the plan
// changes, exactly those their pending changes need (per bucket and
// operation), and the emulator received no write the journal does not
// account for.
func (a applyReport) exact() bool {
	return a.Result.ToChange > 0 && a.Result.MismatchedCount == 0 &&
		maps.Equal(a.Result.ChangeWrites, a.Result.BucketWrites) && len(a.unmatched()) == 0
}

func (a applyReport) writesText() string {
	r := a.Result
	s := fmt.Sprintf("%d bucket writes to the %d buckets to change (%d drifted, %d of the %d log buckets) of %d, for the %d their planned changes need",
		total(r.BucketWrites), r.ToChange, a.Drifted, r.LogTargetsToChange, r.LogTargets, a.Buckets, a.neededWrites())
	if r.MismatchedCount == 0 {
		s += ", bucket by bucket and operation"
	} else {
		s += fmt.Sprintf("; %d buckets' writes differ from their changes (%s)", r.MismatchedCount, strings.Join(r.Mismatched, ", "))
	}
	s += fmt.Sprintf("; besides, %d shared-resource writes (log bucket and topic grants) and %d account-level writes (account Block Public Access, the trail, its key and bucket)",
		total(r.SharedWrites), total(r.AccountWrites))
	if u := a.unmatched(); len(u) > 0 {
		s += "; the emulator's writes do not match the journal: " + strings.Join(u, "; ")
	} else {
		s += fmt.Sprintf("; the emulator's %d writes all accounted for by the journal", a.emulatorWrites())
	}
	var failed []string
	for _, o := range r.AccountOutcomes {
		if o.Status != apply.StatusApplied {
			failed = append(failed, o.Control+" "+o.Status)
		}
	}
	if len(failed) > 0 {
		s += " (account changes not applied: " + strings.Join(failed, ", ") + "; see the apply section)"
	}
	return s
}

// emulatorWrites is every write the emulator received.
func (a applyReport) emulatorWrites() int {
	n := 0
	for op, c := range a.Calls {
		if isWrite(op) {
			n += c
		}
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// outcomeList is account changes' or created buckets' outcomes, one
// phrase each.
func outcomeList(os []accountOutcome) string {
	if len(os) == 0 {
		return "none"
	}
	var out []string
	for _, o := range os {
		name := o.Control
		if o.Bucket != "" {
			name = o.Bucket
		}
		t := fmt.Sprintf("%s %s (%s)", name, o.Status, plural(o.Writes, "write"))
		if o.Err != "" {
			t += ": " + o.Err
		}
		out = append(out, t)
	}
	return strings.Join(out, "; ")
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func (rep *report) writeApply(p func(string, ...any)) {
	a := rep.Apply
	if a.Buckets == 0 {
		return
	}
	r := a.Result
	p("")
	p("## Apply with %.0f%% of buckets drifted", a.Drift*100)
	p("")
	p("An account of %d buckets generated compliant with the high baseline (GenerateScenario's compliant", a.Buckets)
	p("buckets and its %d log buckets), %d of them (%.1f%%) with exactly one control drifted. One process", a.LogBuckets, a.Drifted, 100*float64(a.Drifted)/float64(a.Buckets))
	p("plans and saves the plan, a second applies the saved plan with a journal at concurrency %d, as", a.Concurrency)
	p("`s3baseline apply PLANFILE` does (the table below; the same account applied as `apply --auto-approve`")
	p("does, on a fresh emulator, is in the next section's second column).")
	p("The plan finds %d of the %d regions' log buckets (their server access log targets) to change. The account", r.LogTargetsToChange, r.LogTargets)
	p("changes are applied too, after the buckets (below).")
	p("")
	p("| | |")
	p("|---|---|")
	p("| plan | %s: %d buckets to change (%d drifted, %d log buckets) |", secs(a.planWall()), r.ToChange, a.Drifted, r.LogTargetsToChange)
	p("| apply | %s |", secs(time.Duration(r.ApplySeconds*float64(time.Second))))
	var outs []string
	for _, s := range slices.Sorted(maps.Keys(r.Outcomes)) {
		outs = append(outs, fmt.Sprintf("%d %s", r.Outcomes[s], s))
	}
	p("| bucket outcomes | the plan's %d buckets: %s; %s, those to shared resources on their behalf included |",
		r.Buckets, strings.Join(outs, ", "), plural(r.BucketOutWrites, "write"))
	if len(r.NewOutcomes) > 0 {
		p("| buckets created | %s |", outcomeList(r.NewOutcomes))
	}
	p("| account outcomes | %s |", outcomeList(r.AccountOutcomes))
	p("| errors | %d (failed, stale, or skipped for the plan's errors: buckets and account changes) |", r.ApplyErrors)
	if len(r.Created) > 0 {
		p("| created | %s |", strings.Join(r.Created, ", "))
	}
	p("| calls | %d (%.2f per bucket), plan and apply |", a.totalCalls(), a.callsPerBucket())
	p("| peak RSS | %.0f MiB |", a.rssMB())
	p("")
	p("Pending changes by control:")
	p("")
	p("| control | pending changes |")
	p("|---|---:|")
	ctls := map[string]bool{}
	for c := range writeOpOf {
		ctls[c] = true
	}
	for c := range r.Changes {
		ctls[c] = true
	}
	for _, ctl := range slices.Sorted(maps.Keys(ctls)) {
		p("| %s | %d |", ctl, r.Changes[ctl])
	}
	p("")
	p("Writes by operation: what the plan's bucket changes need (one per bucket and operation: `tls_only` and")
	p("`admin_policy_lock` share one policy write); what the journal records (a started record per write), in")
	p("three parts: to the buckets to change, for their planned changes; to a shared resource on a bucket's")
	p("behalf (the region's log bucket's delivery grant, the topic's publish grant, each made once per region);")
	p("and for the account changes (account Block Public Access, the trail, its key's policy, its bucket's")
	p("CloudTrail grant and, when the tool creates that bucket, its baseline); and what the emulator received.")
	p("")
	p("| write operation | needed | journal: buckets | journal: shared | journal: account | emulator |")
	p("|---|---:|---:|---:|---:|---:|")
	ops := map[string]bool{}
	for _, m := range []map[string]int{r.ChangeWrites, r.BucketWrites, r.SharedWrites, r.AccountWrites} {
		for op := range m {
			ops[op] = true
		}
	}
	for op, c := range a.Calls {
		if isWrite(op) && c > 0 {
			ops[op] = true
		}
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		em := fmt.Sprint(a.Calls[op])
		if op == trailRecordOp {
			em = "–"
		}
		p("| %s | %d | %d | %d | %d | %s |", op, r.ChangeWrites[op], r.BucketWrites[op], r.SharedWrites[op], r.AccountWrites[op], em)
	}
	p("| **total** | **%d** | **%d** | **%d** | **%d** | **%d** |", a.neededWrites(), total(r.BucketWrites), total(r.SharedWrites), total(r.AccountWrites), a.emulatorWrites())
	p("")
	var follow []string
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		if op != trailRecordOp && !oneCall(op) && a.createdOrTrail(op) {
			follow = append(follow, fmt.Sprintf("%s %d", op, a.Calls[op]))
		}
	}
	if len(follow) > 0 {
		p("A journal record is one call but for these: a trail record (%d) is one PutTrail, made of the CloudTrail", r.AccountWrites[trailRecordOp])
		p("calls its trail needs (create or update, selectors, insights, logging), and a resource the tool creates gets")
		p("a created record (%d: %s) rather than a started one. The emulator received, for them: %s.",
			len(r.Created), strings.Join(r.Created, ", "), strings.Join(follow, ", "))
		p("")
	}
	if u := a.unmatched(); len(u) > 0 {
		p("**The emulator's writes do not match the journal:** %s.", strings.Join(u, "; "))
		p("")
	}
	p("All calls of the run (plan and apply), by operation:")
	p("")
	p("| operation | calls |")
	p("|---|---:|")
	for _, op := range slices.Sorted(maps.Keys(a.Calls)) {
		p("| %s | %d |", op, a.Calls[op])
	}
}
