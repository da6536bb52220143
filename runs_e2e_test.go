package main

// One apply at a time, durable evidence: locks, journals and reports in S3,
// reports on every way out. Through the CLI against the emulator.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/report"
)

// opsBucket holds the locks, journals and reports of the S3 cases.
const opsBucket = "s3baseline-ops"

// startOpsEmulator is the e2e scenario with the ops bucket, behind latency
// so that an apply lasts long enough for another to meet its lock.
func startOpsEmulator(t *testing.T, latency time.Duration) *emulator.Server {
	t.Helper()
	sc := e2eScenario(t)
	sc.Buckets = append(sc.Buckets, emulator.Bucket{Name: opsBucket, Region: "us-east-1"})
	return startWith(t, sc, emulator.Options{Latency: latency})
}

// createdOutsideJournals counts resources the emulator created (keys,
// buckets, topics) that no journal records as created.
func createdOutsideJournals(t *testing.T, srv *emulator.Server, journals ...[]apply.Record) []string {
	t.Helper()
	journaled := map[string]int{}
	for _, recs := range journals {
		for _, r := range recs {
			if r.Status == apply.RecordCreated {
				journaled[r.Kind]++
			}
		}
	}
	made := map[string]int{}
	for _, c := range srv.WriteCalls() {
		if c.Status/100 != 2 {
			continue
		}
		switch c.Operation {
		case "CreateKey":
			made[apply.KindKey]++
		case "CreateBucket":
			made[apply.KindBucket]++
		case "CreateTopic":
			made[apply.KindTopic]++
		}
	}
	var out []string
	for kind, n := range made {
		if journaled[kind] != n {
			out = append(out, fmt.Sprintf("%d %s created, %d journaled", n, kind, journaled[kind]))
		}
	}
	return out
}

var heldLine = regexp.MustCompile(`account 123456789012 is locked by apply .*on host .*\(pid \d+\)`)

// TestTwoAppliesOneAccount: two applies of one account started together
// in one state directory: one runs, the other exits 1 naming the holder,
// and nothing is created outside the winner's journal.
func TestTwoAppliesOneAccount(t *testing.T) {
	srv := startOpsEmulator(t, 20*time.Millisecond)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	srv.ResetCalls()
	dir := t.TempDir()
	var wg sync.WaitGroup
	res := make([]result, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
				"--journal", filepath.Join(dir, fmt.Sprintf("j%d.jsonl", i)))
		}()
	}
	wg.Wait()
	var ran, refused []int
	for i, r := range res {
		if heldLine.MatchString(r.stderr) {
			refused = append(refused, i)
		} else {
			ran = append(ran, i)
		}
	}
	if len(ran) != 1 || len(refused) != 1 {
		t.Fatalf("want one run and one refused by the lock; got\n0: %d %s\n1: %d %s", res[0].code, res[0].stderr, res[1].code, res[1].stderr)
	}
	loser := res[refused[0]]
	if loser.code != 1 || strings.Count(strings.TrimSpace(loser.stderr), "\n") != 0 {
		t.Errorf("the refused apply exited %d with:\n%s", loser.code, loser.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("j%d.jsonl", refused[0]))); err == nil {
		t.Error("the refused apply opened a journal")
	}
	recs, err := apply.ReadJournal(filepath.Join(dir, fmt.Sprintf("j%d.jsonl", ran[0])))
	if err != nil {
		t.Fatal(err)
	}
	if bad := createdOutsideJournals(t, srv, recs); len(bad) > 0 {
		t.Errorf("resources outside the journal: %v", bad)
	}
	// Released at the end: a third apply takes the lock.
	if r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "j3.jsonl")); heldLine.MatchString(r.stderr) {
		t.Errorf("the lock outlived its apply: %s", r.stderr)
	}
}

// cliHelperEnv carries, to a helper process, the working directory and
// the arguments of one CLI run (JSON).
const cliHelperEnv = "S3BASELINE_TEST_CLI"

// TestCLIHelperProcess is not a test: it runs the CLI in a process of its
// own for TestTwoProcessesS3Lock.
func TestCLIHelperProcess(t *testing.T) {
	spec := os.Getenv(cliHelperEnv)
	if spec == "" {
		t.Skip("helper process")
	}
	var run struct {
		Dir  string
		Args []string
	}
	if err := json.Unmarshal([]byte(spec), &run); err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(run.Dir); err != nil {
		t.Fatal(err)
	}
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	e.stop, e.abort = interrupts() // the real signal handling of main
	os.Exit(runEnv(t.Context(), e, append([]string{"s3baseline"}, run.Args...)))
}

// TestTwoProcessesS3Lock: two processes in different directories (no
// lock file in common) share the S3 lock: one applies, the other exits 1
// naming the holder and the lock object.
func TestTwoProcessesS3Lock(t *testing.T) {
	srv := startOpsEmulator(t, 20*time.Millisecond)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	srv.ResetCalls()
	type out struct {
		code   int
		stderr string
	}
	outs := make([]out, 2)
	var wg sync.WaitGroup
	for i := range outs {
		dir := t.TempDir()
		spec, _ := json.Marshal(map[string]any{"Dir": dir, "Args": []string{"apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
			"--lock", "s3://" + opsBucket + "/s3baseline/", "--journal", filepath.Join(dir, "j.jsonl")}})
		cmd := exec.Command(os.Args[0], "-test.run=^TestCLIHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), cliHelperEnv+"="+string(spec))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
			outs[i] = out{code, stderr.String()}
		}()
	}
	wg.Wait()
	refused := 0
	for _, o := range outs {
		if heldLine.MatchString(o.stderr) && strings.Contains(o.stderr, "s3://"+opsBucket+"/s3baseline/locks/123456789012.lock") {
			refused++
			if o.code != 1 {
				t.Errorf("the refused process exited %d", o.code)
			}
		}
	}
	if refused != 1 {
		t.Fatalf("want one process refused by the S3 lock; got\n0: %d %s\n1: %d %s", outs[0].code, outs[0].stderr, outs[1].code, outs[1].stderr)
	}
	if _, _, ok := srv.Object(opsBucket, "s3baseline/locks/123456789012.lock"); ok {
		t.Error("the lock object is left after the apply")
	}
}

// readReport reads a report file.
func readReport(t *testing.T, path string) report.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportOnEarlyFailure: a run that fails before it has a plan still
// replaces the previous report with its error and exit code.
func TestReportOnEarlyFailure(t *testing.T) {
	srv := startEmulator(t, "e2e")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("baseline: hihg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args  []string
		env   map[string]string
		error string
	}{
		"BadConfig":     {args: []string{"plan", "--config", bad, "--endpoint-url", srv.URL()}, error: "hihg"},
		"NoCredentials": {args: []string{"plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL()}, env: map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, error: "credentials"},
		"DeadEndpoint":  {args: []string{"apply", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--auto-approve", "--endpoint-url", "http://127.0.0.1:1", "--call-timeout", "2s"}, error: "127.0.0.1:1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			path := filepath.Join(t.TempDir(), "report.json")
			old := `{"report_version":1,"command":"plan","exit_code":0,"accounts":[]}`
			if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, append(tc.args, "--report", path)...)
			if r.code != 1 {
				t.Fatalf("exited %d: %s", r.code, r.stderr)
			}
			rep := readReport(t, path)
			if rep.ExitCode != 1 || !strings.Contains(rep.Error, tc.error) || rep.Command != tc.args[0] || rep.FinishedAt.IsZero() {
				t.Errorf("report: exit %d command %q error %q; want exit 1 and an error naming %q\nstderr: %s", rep.ExitCode, rep.Command, rep.Error, tc.error, r.stderr)
			}
		})
	}
}

// TestJournalAndReportInS3: apply journals to s3:// and reports to s3://;
// rollback reads the journal back from S3 and restores.
func TestJournalAndReportInS3(t *testing.T) {
	srv := startOpsEmulator(t, 0)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	before := comparable(srv.Snapshot())
	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve",
		"--journal", "s3://"+opsBucket+"/journals", "--report", "s3://"+opsBucket+"/reports/latest.json")
	if r.code > 1 {
		t.Fatalf("apply exited %d: %s", r.code, r.stderr)
	}
	body, _, ok := srv.Object(opsBucket, "reports/latest.json")
	if !ok {
		t.Fatalf("no report object; stderr: %s", r.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != r.code || !strings.HasPrefix(rep.Journal, "s3://"+opsBucket+"/journals/journal-") {
		t.Fatalf("report exit %d journal %q (run exited %d)", rep.ExitCode, rep.Journal, r.code)
	}
	if keys := srv.ObjectKeys(opsBucket); len(keys) < 3 {
		t.Errorf("the journal in S3 holds %d objects: %v", len(keys), keys)
	}
	rb := runCLI(t, "rollback", rep.Journal, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", "s3://"+opsBucket+"/journals")
	if rb.code != 0 {
		t.Fatalf("rollback from S3 exited %d: %s", rb.code, rb.stderr)
	}
	after := comparable(srv.Snapshot())
	p, err := awsprovider.New(t.Context(), awsprovider.Options{EndpointURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := apply.ReadJournalS3(t.Context(), p, opsBucket, strings.TrimPrefix(rep.Journal, "s3://"+opsBucket+"/"))
	if err != nil {
		t.Fatal(err)
	}
	dropCreated(recs, "", &after)
	delete(after.Buckets, opsBucket)
	delete(before.Buckets, opsBucket)
	after.BucketList, before.BucketList = nil, nil
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("rollback from the S3 journal did not restore the buckets:\n%s", d)
	}
}
