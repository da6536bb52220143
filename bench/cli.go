package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
)

// The runs of this file are the s3baseline binary itself, as a user runs
// it with its defaults (--concurrency auto, the plan streamed to its file
// and to stdout): what they measure is what `s3baseline plan` costs, the
// CLI's streaming and spooling included.

// cliRun is one run of the s3baseline binary.
type cliRun struct {
	Label     string // the command, for the report
	Buckets   int
	Accounts  int // members of an organization run
	Latency   time.Duration
	Workers   int // its --concurrency: AdaptiveMax for auto
	Wall      time.Duration
	MaxRSSKB  int64
	CPU       time.Duration // user + system
	Calls     map[string]int
	OutBytes  int64 // written to stdout
	FileBytes int64 // the plan file, for --out
}

func (r cliRun) totalCalls() int { return total(r.Calls) }

// cpuPerCall is the client's CPU per request the emulator served.
func (r cliRun) cpuPerCall() time.Duration {
	if r.totalCalls() == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.totalCalls())
}

// bound is every call's latency spread over the run's workers.
func (r cliRun) bound() time.Duration {
	return time.Duration(float64(r.totalCalls()) * float64(r.Latency) / float64(r.Workers))
}

// counted is an emulator whose requests can be counted: one account's
// Server, or an Org (orgCounts).
type counted interface {
	URL() string
	OpCounts() map[string]int
}

// orgCounts counts an organization's requests over all its accounts.
type orgCounts struct{ *emulator.Org }

func (o orgCounts) OpCounts() map[string]int {
	out := map[string]int{}
	for _, id := range o.AccountIDs() {
		for op, n := range o.Account(id).OpCounts() {
			out[op] += n
		}
	}
	return out
}

// buildCLI builds the s3baseline binary into dir.
func buildCLI(dir string) string {
	bin := filepath.Join(dir, "s3baseline")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/s3baseline/s3baseline")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	mustf(cmd.Run(), "build the s3baseline binary")
	return bin
}

// countingWriter counts what the binary prints and keeps none of it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// cli runs the binary with args in the bench's directory (its
// s3baseline.yaml is the config) and measures it.
func (b *bench) cli(srv counted, label string, args ...string) cliRun {
	before := srv.OpCounts()
	cmd := exec.Command(b.bin, args...)
	cmd.Env = isolatedEnv(os.Environ())
	cmd.Dir = b.dir
	out := &countingWriter{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	peak, err := runPeak(cmd)
	r := cliRun{Label: label, Wall: time.Since(start), Latency: b.latency, Workers: b.workers, OutBytes: out.n, Calls: map[string]int{}, MaxRSSKB: peak}
	if err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		mustf(err, "s3baseline %s: %s", strings.Join(args, " "), lines[len(lines)-1])
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = cpuTime(ru)
	}
	for op, n := range srv.OpCounts() {
		if d := n - before[op]; d > 0 {
			r.Calls[op] = d
		}
	}
	return r
}

// streamRuns plans a generated account of n buckets with the binary: the
// plan saved with --out (the text to stdout), the plan as JSON on stdout,
// and the saved plan shown again, each read as it streams.
func (b *bench) streamRuns(n int, progress func(string, ...any)) []cliRun {
	sc := emulator.GenerateScenario(n, emulator.GenerateOptions{Seed: b.seed})
	srv := b.start(sc, b.latency)
	defer srv.Close()
	file := filepath.Join(b.dir, "streamed-plan.json")
	defer os.Remove(file)
	conn := []string{"--endpoint-url", srv.URL()}
	var runs []cliRun
	for _, c := range []struct {
		label string
		args  []string
	}{
		{"plan --out FILE", []string{"plan", "--allow-empty", "--out", file}},
		{"plan --json", []string{"plan", "--allow-empty", "--json"}},
		{"show FILE", []string{"show", file}},
	} {
		label, args := c.label, c.args
		r := b.cli(srv, label, append(args, conn...)...)
		r.Buckets = n
		if args[0] == "plan" && slices.Contains(args, "--out") {
			if fi, err := os.Stat(file); err == nil {
				r.FileBytes = fi.Size()
			}
		}
		progress("  %s: %.1fs, %d calls, peak RSS %d MiB, CPU %.1fs", label, r.Wall.Seconds(), r.totalCalls(), r.MaxRSSKB>>10, r.CPU.Seconds())
		runs = append(runs, r)
	}
	return runs
}

// benchOrgRole is the role an organization run assumes in every member.
const benchOrgRole = "S3BaselineRole"

// orgRuns plans an organization of members generated accounts of
// perAccount buckets each with the binary: --accounts all, once with its
// defaults (--concurrency auto) and once per fixed concurrency.
func (b *bench) orgRuns(members, perAccount int, fixed []int, progress func(string, ...any)) []cliRun {
	sc, err := emulator.GenerateOrg(members, perAccount, benchOrgRole, emulator.GenerateOptions{Seed: b.seed})
	mustf(err, "organization")
	org, err := emulator.StartOrg("127.0.0.1:0", sc, emulator.Options{
		Latency: b.latency, Jitter: time.Duration(float64(b.latency) * b.jitter), NoCallLog: true,
	})
	mustf(err, "start the organization's emulator")
	defer org.Close()
	cfg := filepath.Join(b.dir, "org.yaml")
	mustf(os.WriteFile(cfg, []byte(orgConfigYAML), 0o600), "write %s", cfg)
	file := filepath.Join(b.dir, "org-plan.json")
	defer os.Remove(file)
	var runs []cliRun
	for _, c := range append([]int{0}, fixed...) {
		args := []string{"plan", "--config", cfg, "--endpoint-url", org.URL(), "--accounts", "all",
			"--role-name", benchOrgRole, "--out", file, "--allow-empty"}
		label := "plan --accounts all"
		workers := b.workers
		if c > 0 {
			args = append(args, "--concurrency", strconv.Itoa(c))
			label += " --concurrency " + strconv.Itoa(c)
			workers = c
		}
		r := b.cli(orgCounts{org}, label, args...)
		r.Buckets, r.Accounts, r.Workers = members*perAccount, members, workers
		progress("  %s: %.1fs, %d calls, peak RSS %d MiB", label, r.Wall.Seconds(), r.totalCalls(), r.MaxRSSKB>>10)
		runs = append(runs, r)
	}
	return runs
}

// orgConfigYAML is the organization runs' config: the high baseline, each
// account's break-glass admin exempt from the policy lock.
const orgConfigYAML = "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"arn:aws:iam::{account}:role/LegacyFullAdmin\"]\n"
