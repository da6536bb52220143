// Command bench measures s3baseline at scale: the real plan.Build and
// apply.Apply, with the real AWS provider and SDK over HTTP, against the
// emulator seeded with generated accounts of 100 to 10,000 buckets behind
// an injected per-request latency, at several concurrencies, with a config
// whose rules match on tags (every bucket's tags read first), and once at
// the largest size with the same config by name only.
//
// The emulator runs in this process; each plan runs in a child process
// (this program again, with -child), so that the child's peak RSS is the
// plan's alone. It prints a Markdown report and, with -out, writes it.
//
//	go run ./bench -out bench/results.md   # make bench
//	go run ./bench -quick                  # BENCH_QUICK=1 make bench: N=100 and 1,000 only
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

func main() {
	var (
		child       = flag.String("child", "", "internal: run one `plan|save|apply|autoapply` (save: plan and write it; apply: the saved plan; autoapply: plan and apply that plan, as apply --auto-approve does) against -endpoint and print the result")
		endpoint    = flag.String("endpoint", "", "internal: the emulator's URL (with -child)")
		concurrency = flag.Int("concurrency", 64, "internal: --concurrency of the child")
		rules       = flag.String("rules", rulesTags, "internal: the child's config: `tags` (a rule matches on tags) or names (rules by name only)")

		out       = flag.String("out", "", "write the Markdown report to `FILE`")
		quick     = flag.Bool("quick", os.Getenv("BENCH_QUICK") != "", "only N=100 and 1,000 (also BENCH_QUICK=1)")
		latency   = flag.Duration("latency", 40*time.Millisecond, "injected latency of every request")
		jitter    = flag.Float64("jitter", 0.1, "latency varies uniformly by ± this fraction")
		sizes     = flag.String("sizes", "100,1000,10000", "bucket counts to plan")
		concs     = flag.String("concurrencies", "64,128,256,512,0", "--concurrency values to plan with (0: auto)")
		applyN    = flag.Int("apply-buckets", 0, "buckets of the apply run (0: the largest size)")
		applyC    = flag.Int("apply-concurrency", 64, "--concurrency of the apply run")
		drift     = flag.Float64("drift", 0.1, "fraction of buckets drifted in the apply run")
		seed      = flag.Int64("seed", 1, "scenario seed")
		sdkPool   = flag.Bool("sdk-pool", false, "plan with the SDK's default connection pool (10 idle per host), for comparison")
		overheadN = flag.Int("overhead-buckets", 1000, "buckets of the emulator overhead runs")
		namesN    = flag.Int("names-buckets", 0, "buckets of the plan run with rules by name only (0: the largest size)")
		namesC    = flag.Int("names-concurrency", targetC, "--concurrency of the plan run with rules by name only")
		streamN   = flag.String("stream-buckets", "100000", "bucket counts of the binary's streamed plan runs (BENCH_HUGE=1 adds 1000000)")
		orgN      = flag.Int("org-accounts", 500, "member accounts of the organization run")
		orgPer    = flag.Int("org-buckets", 20, "buckets of each member account")
		orgC      = flag.String("org-concurrencies", "", "fixed --concurrency values the organization is planned with too, after auto")
		slowdown  = flag.Float64("slowdown", 0.05, "fraction of requests answered 503 SlowDown in the throttled run")
	)
	flag.Parse()
	if *child != "" {
		runChild(*child, *endpoint, *concurrency, *sdkPool, *rules)
		return
	}
	b := &bench{latency: *latency, jitter: *jitter, seed: *seed, sdkPool: *sdkPool}
	ns, cs, sns := ints(*sizes), ints(*concs), ints(*streamN)
	if os.Getenv("BENCH_HUGE") != "" {
		sns = append(sns, 1000000)
	}
	if *quick {
		ns, sns = []int{100, 1000}, []int{1000}
		*orgN = 20
	}
	if *applyN == 0 {
		*applyN = ns[len(ns)-1]
	}
	if *namesN == 0 {
		*namesN = ns[len(ns)-1]
	}
	self, err := os.Executable()
	mustf(err, "find own executable")
	b.self = self
	b.workers = awsprovider.AdaptiveMax
	dir, err := os.MkdirTemp("", "s3baseline-bench-")
	mustf(err, "temp dir")
	defer os.RemoveAll(dir)
	b.dir = dir
	b.bin = buildCLI(dir)
	// The binary's runs read the tag rules' config as ./s3baseline.yaml.
	_, _, err = loadConfig(dir, rulesTags)
	mustf(err, "config")

	started := time.Now()
	rep := &report{
		Latency: *latency, Jitter: *jitter, Seed: *seed, Quick: *quick, SDKPool: *sdkPool,
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
	}
	progress := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%5.0fs] "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
	}

	// The emulator's own cost: no injected latency, one request at a time,
	// then as many as the machine can serve.
	progress("emulator overhead: %d buckets, no injected latency", *overheadN)
	rep.Overhead = b.planRuns(*overheadN, 0, []int{1, 64}, rulesTags, progress)

	for _, n := range ns {
		progress("plan: %d buckets, latency %v ± %.0f%%", n, *latency, *jitter*100)
		rep.Plans = append(rep.Plans, b.planRuns(n, *latency, cs, rulesTags, progress)...)
	}

	// The common case: the same config without the rule on tags.
	progress("plan, rules by name only: %d buckets", *namesN)
	rep.Names = b.planRuns(*namesN, *latency, []int{*namesC}, rulesNames, progress)[0]

	progress("plan, %.0f%% of requests throttled: %d buckets, concurrency auto", *slowdown*100, *applyN)
	rep.Throttled = b.throttledRun(*applyN, *slowdown)

	progress("apply: %d buckets, %.0f%% drifted, concurrency %d", *applyN, *drift*100, *applyC)
	rep.Apply = b.applyRun(*applyN, *drift, *applyC)

	for _, n := range sns {
		progress("the binary, streamed: %d buckets, latency %v, its defaults", n, *latency)
		rep.Streamed = append(rep.Streamed, b.streamRuns(n, progress)...)
	}

	progress("organization: %d accounts × %d buckets, latency %v", *orgN, *orgPer, *latency)
	rep.Org = b.orgRuns(*orgN, *orgPer, ints(*orgC), progress)
	rep.Elapsed = time.Since(started)

	var md bytes.Buffer
	rep.write(&md)
	os.Stdout.Write(md.Bytes())
	if *out != "" {
		mustf(os.WriteFile(*out, md.Bytes(), 0o644), "write %s", *out)
		progress("wrote %s", *out)
	}
}

// bench holds what every run shares.
type bench struct {
	self    string // this executable, run again as the child
	dir     string
	latency time.Duration
	jitter  float64
	seed    int64
	sdkPool bool
	bin     string // the s3baseline binary
	workers int    // the binary's workers with --concurrency auto
}

// start serves sc with the given latency (and the bench's jitter).
func (b *bench) start(sc *emulator.Scenario, latency time.Duration) *emulator.Server {
	srv, err := emulator.Start("127.0.0.1:0", sc, emulator.Options{
		Latency:   latency,
		Jitter:    time.Duration(float64(latency) * b.jitter),
		NoCallLog: true, // OpCounts is all the report needs
	})
	mustf(err, "start emulator")
	return srv
}

// run is one plan (or plan and apply) process and what it cost.
type run struct {
	Buckets     int
	Concurrency int
	Latency     time.Duration
	Rules       string // rulesTags or rulesNames
	Result      result
	Calls       map[string]int // "Service Operation" -> requests the emulator served
	MaxRSSKB    int64          // the child's peak RSS (runPeak)
	Wall        time.Duration  // the child process, start to exit
	CPU         time.Duration  // the child's user + system time, from wait4
}

func (r run) totalCalls() int {
	n := 0
	for _, c := range r.Calls {
		n += c
	}
	return n
}

// planRuns plans a generated account of n buckets once per concurrency,
// with the config of a rule set. Plans only read, so one emulator serves
// them all.
func (b *bench) planRuns(n int, latency time.Duration, concs []int, rules string, progress func(string, ...any)) []run {
	sc := emulator.GenerateScenario(n, emulator.GenerateOptions{Seed: b.seed})
	srv := b.start(sc, latency)
	defer srv.Close()
	var runs []run
	for _, c := range concs {
		r := b.child(srv, "plan", c, rules)
		r.Buckets, r.Latency = n, latency
		progress("  concurrency %3d: %6.2fs, %d calls, peak RSS %d MiB", c, r.Result.PlanSeconds, r.totalCalls(), r.MaxRSSKB>>10)
		runs = append(runs, r)
	}
	return runs
}

// applyRun plans an account of n buckets of which a fraction has one
// control drifted, saves the plan, and applies it in a second process, so
// that the apply's calls are counted apart from the plan's.
func (b *bench) applyRun(n int, drift float64, c int) applyReport {
	sc := compliantScenario(n, drift, b.seed)
	srv := b.start(sc, b.latency)
	defer srv.Close()
	planned := b.child(srv, "save", c, rulesTags)
	// The same mostly compliant account planned with rules by name only,
	// before it is changed: what a compliant bucket costs when no rule
	// matches on tags.
	names := b.child(srv, "plan", c, rulesNames)
	names.Buckets, names.Latency = len(sc.Buckets), b.latency
	applied := b.child(srv, "apply", c, rulesTags)
	// The same drifted account again, fresh, applied as `apply
	// --auto-approve` does: the plan made in the process that applies it,
	// so trusted (apply.Options.Trusted). The driver counts the calls up
	// to the end of that plan apart from the apply's.
	srv2 := b.start(compliantScenario(n, drift, b.seed), b.latency)
	defer srv2.Close()
	auto, autoPlan := b.childSplit(srv2, "autoapply", c, rulesTags)
	r := planned
	r.Buckets, r.Latency = len(sc.Buckets), b.latency
	r.Result = mergeApply(planned.Result, applied.Result)
	r.Calls = map[string]int{}
	for _, m := range []map[string]int{planned.Calls, applied.Calls} {
		for op, n := range m {
			r.Calls[op] += n
		}
	}
	r.MaxRSSKB = max(planned.MaxRSSKB, applied.MaxRSSKB)
	r.Wall, r.CPU = planned.Wall+applied.Wall, planned.CPU+applied.CPU
	drifted, logs := countKinds(sc)
	return applyReport{run: r, Drifted: drifted, LogBuckets: logs, Drift: drift,
		PlanCalls: planned.Calls, ApplyCalls: applied.Calls, ApplyRSSKB: applied.MaxRSSKB, Names: names,
		Auto: autoReport{Result: auto.Result, PlanCalls: autoPlan, ApplyCalls: minus(auto.Calls, autoPlan), RSSKB: auto.MaxRSSKB}}
}

// minus is a's counts less b's, the operations left at 0 dropped.
func minus(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range a {
		if d := n - b[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

// mergeApply is the plan's result with the apply's outcomes and journal.
func mergeApply(planned, applied result) result {
	r := planned
	r.ApplySeconds = applied.ApplySeconds
	r.BucketWrites, r.SharedWrites, r.AccountWrites = applied.BucketWrites, applied.SharedWrites, applied.AccountWrites
	r.Mismatched, r.MismatchedCount = applied.Mismatched, applied.MismatchedCount
	r.Created, r.Outcomes, r.BucketOutWrites = applied.Created, applied.Outcomes, applied.BucketOutWrites
	r.NewOutcomes, r.AccountOutcomes = applied.NewOutcomes, applied.AccountOutcomes
	r.ApplyErrors, r.TrailBucket = applied.ApplyErrors, applied.TrailBucket
	return r
}

// throttledRun plans n generated buckets with --concurrency auto while a
// fraction of all requests is answered 503 SlowDown.
func (b *bench) throttledRun(n int, rate float64) run {
	sc := emulator.GenerateScenario(n, emulator.GenerateOptions{Seed: b.seed})
	srv := b.start(sc, b.latency)
	defer srv.Close()
	srv.SetChaos(emulator.Chaos{Seed: b.seed, SlowDownRate: rate})
	r := b.child(srv, "plan", 0, rulesTags)
	r.Buckets, r.Latency = n, b.latency
	return r
}

// child runs this program with -child against srv and collects its result,
// the emulator's request counts during it and its peak RSS.
func (b *bench) child(srv *emulator.Server, mode string, concurrency int, rules string) run {
	r, _ := b.runChild(srv, mode, concurrency, rules, false)
	return r
}

// childSplit is child for a child that pauses once (the autoapply child,
// between its plan and its apply): first are the calls the emulator served
// up to the pause.
func (b *bench) childSplit(srv *emulator.Server, mode string, concurrency int, rules string) (r run, first map[string]int) {
	return b.runChild(srv, mode, concurrency, rules, true)
}

func (b *bench) runChild(srv *emulator.Server, mode string, concurrency int, rules string, split bool) (run, map[string]int) {
	before := srv.OpCounts()
	cmd := exec.Command(b.self, "-child", mode, "-endpoint", srv.URL(), "-concurrency", strconv.Itoa(concurrency),
		"-rules", rules, "-sdk-pool="+strconv.FormatBool(b.sdkPool))
	cmd.Env = isolatedEnv(os.Environ())
	cmd.Dir = b.dir
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	var first map[string]int
	var paused chan struct{}
	if split {
		// fd 3: the child says it paused; fd 4: it goes on when told.
		readyR, readyW, err := os.Pipe()
		mustf(err, "pipe")
		goR, goW, err := os.Pipe()
		mustf(err, "pipe")
		cmd.ExtraFiles = []*os.File{readyW, goR}
		paused = make(chan struct{})
		go func() {
			defer close(paused)
			defer readyR.Close()
			defer goW.Close()
			var buf [1]byte
			if _, err := readyR.Read(buf[:]); err != nil {
				return // the child ended without pausing
			}
			first = map[string]int{}
			for op, n := range srv.OpCounts() {
				if d := n - before[op]; d > 0 {
					first[op] = d
				}
			}
			_, _ = goW.Write(buf[:])
		}()
		defer func() { readyW.Close(); goR.Close() }()
	}
	start := time.Now()
	peak, err := runPeak(cmd)
	mustf(err, "%s with concurrency %d", mode, concurrency)
	if split {
		<-paused
		if first == nil {
			mustf(fmt.Errorf("the child never paused"), "%s", mode)
		}
	}
	r := run{Concurrency: concurrency, Rules: rules, Wall: time.Since(start), Calls: map[string]int{}, MaxRSSKB: peak}
	mustf(json.Unmarshal(stdout.Bytes(), &r.Result), "read the child's result %q", stdout.String())
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = cpuTime(ru)
	}
	for op, n := range srv.OpCounts() {
		if d := n - before[op]; d > 0 {
			r.Calls[op] = d
		}
	}
	return r, first
}

// runChild is the child process: one plan, or a plan and its apply, as
// the CLI would run them, and the result as JSON on stdout.
func runChild(mode, endpoint string, concurrency int, sdkPool bool, rules string) {
	ctx := context.Background()
	dir, err := os.Getwd()
	mustf(err, "working directory")
	cfg, _, err := loadConfig(dir, rules)
	mustf(err, "config")
	// Concurrency 0 is --concurrency auto: the adaptive window bounds the
	// calls, AdaptiveMax workers feed it.
	auto := concurrency == 0
	if auto {
		concurrency = awsprovider.AdaptiveMax
	}
	prov, err := newProvider(ctx, endpoint, concurrency, sdkPool, auto)
	mustf(err, "provider")
	var res result
	saved := filepath.Join(dir, planFileName)
	switch mode {
	case "plan", "save":
		p, err := planOnce(ctx, prov, cfg, concurrency, &res)
		mustf(err, "plan")
		if mode == "save" {
			mustf(plan.WriteFile(saved, p), "save the plan")
		}
	case "apply":
		// The plan the "save" child wrote, read as apply reads it, so
		// that this process's calls are the apply's alone.
		p, err := plan.ReadFile(saved)
		mustf(err, "read the plan")
		jdir, err := os.MkdirTemp(dir, "apply-")
		mustf(err, "journal dir")
		mustf(applyOnce(ctx, prov, cfg, p, concurrency, jdir, false, &res), "apply")
	case "autoapply":
		// As `apply --auto-approve`: the plan this process made, applied
		// at once and so trusted. Between the two the driver is told (fd
		// 3) and counts the plan's calls, and says when to go on (fd 4).
		p, err := planOnce(ctx, prov, cfg, concurrency, &res)
		mustf(err, "plan")
		ready, resume := os.NewFile(3, "ready"), os.NewFile(4, "go")
		var buf [1]byte
		_, err = ready.Write(buf[:])
		mustf(err, "tell the driver the plan is made")
		_, err = resume.Read(buf[:])
		mustf(err, "wait for the driver")
		jdir, err := os.MkdirTemp(dir, "apply-")
		mustf(err, "journal dir")
		mustf(applyOnce(ctx, prov, cfg, p, concurrency, jdir, true, &res), "apply")
	default:
		mustf(fmt.Errorf("unknown mode %q", mode), "child")
	}
	res.Limits = prov.AdaptiveLimits()
	res.VmHWMKB = vmHWM("self")
	mustf(json.NewEncoder(os.Stdout).Encode(res), "write result")
}

// planFileName is the plan the "save" child writes and the "apply" child
// applies, in the bench's directory.
const planFileName = "plan.json"

// cpuTime is a process's user and system time.
func cpuTime(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ints(s string) []int {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil
	}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		mustf(err, "%q is not a number", f)
		out = append(out, n)
	}
	return out
}
