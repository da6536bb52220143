package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// The scale issue's targets (issue 10), measured here, asserted nowhere.
const (
	targetStreamN       = 100000
	targetStreamRSSMB   = 256
	targetHugeN         = 1000000
	targetHugeRSSMB     = 512
	targetLinear        = 1.2  // the 1,000,000 run within 1.2 × 10 × the 100,000 run
	targetAutoGap       = 0.15 // auto within 15% of the best fixed concurrency
	targetCompliant     = 7.0  // plan requests per compliant high bucket, a rule on tags
	targetCompliantName = 6.0  // ... rules by name only
	targetOrgBound      = 0.8
	targetCPUPerCall    = 300 * time.Microsecond
)

func mib(kb int64) float64 { return float64(kb) / 1024 }

// bestFixed is the fastest fixed-concurrency plan at n, and auto's.
func (rep *report) bestFixed(n int) (best, auto run, ok bool) {
	for _, r := range rep.Plans {
		switch {
		case r.Buckets != n:
		case r.Concurrency == 0:
			auto, ok = r, true
		case best.Buckets == 0 || r.Result.PlanSeconds < best.Result.PlanSeconds:
			best = r
		}
	}
	return best, auto, ok && best.Buckets > 0
}

// streamed finds the binary's run of a command at n.
func (rep *report) streamed(label string, n int) (cliRun, bool) {
	for _, r := range rep.Streamed {
		if r.Label == label && r.Buckets == n {
			return r, true
		}
	}
	return cliRun{}, false
}

// allowedCalls is what the apply's changes allow: 2 per change and 1 per
// changed bucket.
func (a applyReport) allowedCalls() int {
	return 2*a.Result.Applicable + a.Result.ToChange
}

func (rep *report) writeScaleTargets(p func(string, ...any)) {
	for _, label := range []string{"plan --out FILE", "plan --json"} {
		for _, t := range []struct {
			n     int
			limit float64
		}{{targetStreamN, targetStreamRSSMB}, {targetHugeN, targetHugeRSSMB}} {
			r, ok := rep.streamed(label, t.n)
			if !ok {
				p("| peak RSS of `s3baseline %s` at N=%d ≤ %.0f MiB | not run%s | – |", label, t.n, t.limit, hugeHint(t.n))
				continue
			}
			p("| peak RSS of `s3baseline %s` at N=%d ≤ %.0f MiB | %.0f MiB (%s, %d calls) | %s |", label, t.n, t.limit,
				mib(r.MaxRSSKB), secs(r.Wall), r.totalCalls(), yes(mib(r.MaxRSSKB) <= t.limit))
		}
	}
	small, okS := rep.streamed("plan --out FILE", targetStreamN)
	huge, okH := rep.streamed("plan --out FILE", targetHugeN)
	if okS && okH {
		ratio := huge.Wall.Seconds() / (10 * small.Wall.Seconds())
		p("| time linear in N: N=1,000,000 within %.1f × 10 × N=100,000 | %.2f (%s against %s) | %s |", targetLinear,
			ratio, secs(huge.Wall), secs(small.Wall), yes(ratio <= targetLinear))
	} else {
		p("| time linear in N: N=1,000,000 within %.1f × 10 × N=100,000 | not run%s | – |", targetLinear, hugeHint(targetHugeN))
	}
	if best, auto, ok := rep.bestFixed(targetN); ok {
		gap := auto.Result.PlanSeconds/best.Result.PlanSeconds - 1
		p("| `--concurrency auto` within %.0f%% of the best fixed concurrency (N=%d) | %s against %s at %d: %+.0f%% | %s |",
			targetAutoGap*100, targetN, secs(auto.planWall()), secs(best.planWall()), best.Concurrency, gap*100, yes(gap <= targetAutoGap))
	}
	if t := rep.Throttled; t.Buckets > 0 {
		lo, hi := limitRange(t.Result.Limits, "S3")
		settled := t.Result.BucketErrors == 0 && lo > 2 && hi < awsprovider.AdaptiveMax
		p("| under injected SlowDown no bucket fails and the rate settles (N=%d, auto) | %d buckets failed; S3 windows end at %.0f–%.0f calls in flight (peaks %s) | %s |",
			t.Buckets, t.Result.BucketErrors, lo, hi, peaks(t.Result.Limits, "S3"), yes(settled))
	}
	if a := rep.Apply; a.Buckets > 0 {
		tags := run{Buckets: a.Buckets, Calls: a.PlanCalls, Rules: rulesTags}
		p("| plan ≤ %.0f requests per compliant high bucket, a rule on tags (%d buckets, %.0f%% compliant) | %.2f | %s |",
			targetCompliant, a.Buckets, 100-100*float64(a.Result.ToChange)/float64(a.Buckets), tags.callsPerBucket(), yes(tags.callsPerBucket() <= targetCompliant))
		if n := a.Names; n.Buckets > 0 {
			p("| plan ≤ %.0f requests per compliant high bucket, rules by name only (same account) | %.2f | %s |",
				targetCompliantName, n.callsPerBucket(), yes(n.callsPerBucket() <= targetCompliantName))
		}
		for _, way := range []struct {
			label string
			calls map[string]int
		}{{"`apply --auto-approve` (its own plan, trusted)", a.Auto.ApplyCalls}, {"`apply PLANFILE` (unsigned, checked whole first)", a.ApplyCalls}} {
			if way.calls == nil {
				continue
			}
			calls, allowed := total(way.calls), a.allowedCalls()
			p("| apply of %.0f%% drift, %s: requests ≤ 2 × changes + 1 per changed bucket | %d calls for %d changes in %d buckets (allowed %d): %.2f per changed bucket, %.2f allowed | %s |",
				a.Drift*100, way.label, calls, a.Result.Applicable, a.Result.ToChange, allowed,
				float64(calls)/float64(max(1, a.Result.ToChange)), float64(allowed)/float64(max(1, a.Result.ToChange)), yes(calls <= allowed))
		}
	}
	if len(rep.Org) > 0 {
		r := rep.Org[0]
		eff := r.bound().Seconds() / r.Wall.Seconds()
		p("| organization of %d × %d behind %v: ≥ %.1f of the latency bound (defaults) | %.2f (%s for a bound of %s at %d workers) | %s |",
			r.Accounts, r.Buckets/max(1, r.Accounts), rep.Latency, targetOrgBound, eff, secs(r.Wall), secs(r.bound()), r.Workers, yes(eff >= targetOrgBound))
	}
	if _, auto, ok := rep.bestFixed(targetN); ok {
		per := auto.CPU / time.Duration(max(1, auto.totalCalls()))
		p("| client CPU per request ≤ %v (N=%d, auto) | %v (%.1f s user+sys for %d calls) | %s |", targetCPUPerCall, targetN,
			per.Round(time.Microsecond), auto.CPU.Seconds(), auto.totalCalls(), yes(per <= targetCPUPerCall))
	}
	p("| side by side with Cloud Custodian: plan ≥ 15×, apply ≥ 25× its buckets/s | not run: Custodian is not installed here (the issue's own runs are the reference) | – |")
}

func hugeHint(n int) string {
	if n == targetHugeN {
		return " (BENCH_HUGE=1)"
	}
	return ""
}

// limitRange is the lowest and highest current window of a service.
func limitRange(limits map[string][2]float64, service string) (lo, hi float64) {
	first := true
	for k, v := range limits {
		if !strings.HasPrefix(k, service+"|") {
			continue
		}
		if first || v[0] < lo {
			lo = v[0]
		}
		if first || v[0] > hi {
			hi = v[0]
		}
		first = false
	}
	return lo, hi
}

// peaks lists a service's windows' peaks by region.
func peaks(limits map[string][2]float64, service string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		if region, ok := strings.CutPrefix(k, service+"|"); ok {
			out = append(out, fmt.Sprintf("%s %.0f", region, limits[k][1]))
		}
	}
	return strings.Join(out, ", ")
}

func (rep *report) writeApplyCalls(p func(string, ...any)) {
	a := rep.Apply
	if a.Buckets == 0 || a.ApplyCalls == nil {
		return
	}
	calls, allowed := total(a.ApplyCalls), a.allowedCalls()
	changed := max(1, a.Result.ToChange)
	auto := a.Auto.ApplyCalls
	p("")
	p("## Apply: calls per changed bucket, by operation")
	p("")
	p("The apply above, in its own process reading the saved plan, so its calls are the apply's alone (*plan file*): %d calls", calls)
	p("for %d changes in %d changed buckets. The target allows 2 per change (its compare-and-swap read and its", a.Result.Applicable, a.Result.ToChange)
	p("write) and 1 per changed bucket: %d. Beside it (*auto-approve*), the same drifted account on a fresh emulator", allowed)
	p("applied as `apply --auto-approve` does, planned and applied by one process (its calls counted apart at the")
	p("end of the plan): the plan is the process's own, so trusted (as a plan file whose signature `--sign-key`")
	p("verifies), and each bucket is looked at once, at its turn, rather than checked before the first write and")
	p("again at its turn. Per changed bucket:")
	p("")
	p("| operation | plan file | per changed bucket | auto-approve | per changed bucket |")
	p("|---|---:|---:|---:|---:|")
	ops := maps.Clone(a.ApplyCalls)
	maps.Copy(ops, auto)
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		p("| %s | %d | %.2f | %d | %.2f |", op, a.ApplyCalls[op], float64(a.ApplyCalls[op])/float64(changed), auto[op], float64(auto[op])/float64(changed))
	}
	p("| **total** | **%d** | **%.2f** | **%d** | **%.2f** |", calls, float64(calls)/float64(changed), total(auto), float64(total(auto))/float64(changed))
	p("")
	for _, way := range []struct {
		label string
		calls map[string]int
	}{{"The plan file's apply", a.ApplyCalls}, {"The auto-approve apply", auto}} {
		var reads, writes int
		for op, n := range way.calls {
			if isWrite(op) {
				writes += n
			} else {
				reads += n
			}
		}
		p("%s: reads %d (%.2f per changed bucket), writes %d (%.2f).", way.label,
			reads, float64(reads)/float64(changed), writes, float64(writes)/float64(changed))
	}
	if o := a.Auto.Result.Outcomes; o != nil {
		p("The auto-approve apply's outcomes: %s (the plan file's: %s).", outcomeText(o), outcomeText(a.Result.Outcomes))
	}
	p("Peak RSS of the apply process: %.0f MiB (auto-approve, plan and apply: %.0f MiB).", mib(a.ApplyRSSKB), mib(a.Auto.RSSKB))
}

// outcomeText lists bucket outcomes by status, in order of status.
func outcomeText(o map[string]int) string {
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(o)) {
		parts = append(parts, fmt.Sprintf("%d %s", o[st], st))
	}
	return strings.Join(parts, ", ")
}

func (rep *report) writeAdaptive(p func(string, ...any)) {
	best, auto, ok := rep.bestFixed(targetN)
	if !ok && rep.Throttled.Buckets == 0 {
		return
	}
	p("")
	p("## Adaptive concurrency")
	p("")
	if ok {
		p("`--concurrency auto` (the default: AIMD per service and region, up to %d workers) against every fixed", awsprovider.AdaptiveMax)
		p("value at N=%d; the client's CPU is its user and system time over the calls:", targetN)
		p("")
		p("| concurrency | plan wall | against the best fixed | calls | client CPU | CPU per call |")
		p("|---:|---:|---:|---:|---:|---:|")
		for _, r := range rep.Plans {
			if r.Buckets != targetN {
				continue
			}
			c := fmt.Sprint(r.Concurrency)
			if r.Concurrency == 0 {
				c = "auto"
			}
			p("| %s | %s | %+.0f%% | %d | %.1f s | %v |", c, secs(r.planWall()), 100*(r.Result.PlanSeconds/best.Result.PlanSeconds-1),
				r.totalCalls(), r.CPU.Seconds(), (r.CPU / time.Duration(max(1, r.totalCalls()))).Round(time.Microsecond))
		}
		p("")
		p("auto's windows at the end: %s.", windows(auto.Result.Limits))
	}
	if t := rep.Throttled; t.Buckets > 0 {
		p("")
		p("The same plan (N=%d, auto) with a fraction of every request answered 503 SlowDown (the emulator's chaos,", t.Buckets)
		p("S3's throttling answer): %s, %d calls (retries included), %d buckets failed.", secs(t.planWall()), t.totalCalls(), t.Result.BucketErrors)
		if ok {
			p("Unthrottled it took %s and %d calls.", secs(auto.planWall()), auto.totalCalls())
		}
		p("Windows at the end: %s.", windows(t.Result.Limits))
	}
}

// windows lists adaptive windows as "service|region current (peak)".
func windows(limits map[string][2]float64) string {
	if len(limits) == 0 {
		return "none"
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		out = append(out, fmt.Sprintf("%s %.0f (peak %.0f)", k, limits[k][0], limits[k][1]))
	}
	return strings.Join(out, ", ")
}

func (rep *report) writeStreamed(p func(string, ...any)) {
	if len(rep.Streamed) == 0 {
		return
	}
	p("")
	p("## The binary, streamed")
	p("")
	p("`s3baseline` itself with its defaults (`--concurrency auto`), the config above as ./s3baseline.yaml:")
	p("`plan --out FILE` (the plan file written bucket by bucket, the text spooled for stdout), `plan --json`")
	p("(the document streamed), and `show FILE` (the file read as it streams, its checksum checked first).")
	p("Peak RSS is the process's VmHWM, read until it exits; CPU is user + system; *out* is what it printed, *file* the plan file.")
	p("")
	p("| command | N | wall | calls | calls/bucket | buckets/s | peak RSS | CPU | CPU per call | out | file |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Streamed {
		perCall, perBucket := "–", "–"
		if r.totalCalls() > 0 {
			perCall = r.cpuPerCall().Round(time.Microsecond).String()
			perBucket = fmt.Sprintf("%.2f", float64(r.totalCalls())/float64(r.Buckets))
		}
		file := "–"
		if r.FileBytes > 0 {
			file = fmt.Sprintf("%.1f MiB", float64(r.FileBytes)/(1<<20))
		}
		p("| `%s` | %d | %s | %d | %s | %.0f | %.0f MiB | %.1f s | %s | %.1f MiB | %s |", r.Label, r.Buckets, secs(r.Wall),
			r.totalCalls(), perBucket, float64(r.Buckets)/r.Wall.Seconds(), mib(r.MaxRSSKB), r.CPU.Seconds(), perCall,
			float64(r.OutBytes)/(1<<20), file)
	}
}

func (rep *report) writeOrg(p func(string, ...any)) {
	if len(rep.Org) == 0 {
		return
	}
	r0 := rep.Org[0]
	p("")
	p("## Organization")
	p("")
	p("An organization of %d member accounts of %d generated buckets each (`emulator.GenerateOrg`), planned by", r0.Accounts, r0.Buckets/max(1, r0.Accounts))
	p("`s3baseline plan --accounts all --role-name %s --out FILE` from its management account, with the", benchOrgRole)
	p("defaults (128 accounts at once, a quarter of the 512 workers, their bucket reads sharing the workers) and with a fixed `--concurrency`. *Bound* = calls ×")
	p("latency / workers (%d for auto: its window's ceiling).", awsprovider.AdaptiveMax)
	p("")
	p("| command | accounts | buckets | wall | calls | calls/bucket | bound | of bound | buckets/s | peak RSS | CPU per call |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Org {
		p("| `%s` | %d | %d | %s | %d | %.2f | %s | %.2f | %.0f | %.0f MiB | %v |", r.Label, r.Accounts, r.Buckets, secs(r.Wall),
			r.totalCalls(), float64(r.totalCalls())/float64(r.Buckets), secs(r.bound()), r.bound().Seconds()/r.Wall.Seconds(),
			float64(r.Buckets)/r.Wall.Seconds(), mib(r.MaxRSSKB), r.cpuPerCall().Round(time.Microsecond))
	}
}
