package main

// End-to-end tests: the real CLI code (run), the real providers/aws with the
// real AWS SDK, over HTTP, against the emulator in fixtures/ seeded with the
// e2e scenario. Nothing here is a mock.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/fixtures/testenv"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// startEmulator starts the emulator with a scenario and points the standard
// AWS credential chain at throwaway values, so nothing of the machine's own
// AWS setup can leak into a test.
func startEmulator(t *testing.T, scenario string) *emulator.Server {
	t.Helper()
	sc, err := fixtures.Scenario(scenario)
	if err != nil {
		t.Fatalf("load scenario %q: %v", scenario, err)
	}
	return startWith(t, sc, emulator.Options{})
}

// startWith is startEmulator with a scenario and options the test made.
func startWith(t *testing.T, sc *emulator.Scenario, opts emulator.Options) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start("127.0.0.1:0", sc, opts)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	isolateAWSEnv(t)
	return srv
}

// e2eScenario is the e2e scenario, for a test to add to.
func e2eScenario(t *testing.T) *emulator.Scenario {
	t.Helper()
	sc, err := fixtures.Scenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := testenv.IsolateAWS(t)
	t.Setenv("NO_COLOR", "1")
	// Config files of the working directory must not leak in either.
	t.Chdir(dir)
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLITuned(t, nil, args...)
}

// runCLITuned is runCLI with the provider's options adjusted after the
// flags (a lower retry backoff, say).
func runCLITuned(t *testing.T, tune func(*awsprovider.Options), args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, tuneProvider: tune}
	code := runEnv(context.Background(), e, append([]string{"s3baseline"}, args...))
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// repoTestdata is resolved before a test changes directory.
var repoTestdata, _ = filepath.Abs("testdata")

func planJSON(t *testing.T, srv *emulator.Server, extra ...string) *plan.Plan {
	t.Helper()
	args := append([]string{"plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--json"}, extra...)
	r := runCLI(t, args...)
	if r.code != 0 {
		t.Fatalf("plan exited %d\nstderr: %s", r.code, r.stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json is not a plan document: %v\n%s", err, r.stdout)
	}
	return &p
}

func bucketPlan(t *testing.T, p *plan.Plan, name string) plan.BucketPlan {
	t.Helper()
	for _, b := range p.Buckets {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("bucket %q is not in the plan", name)
	return plan.BucketPlan{}
}

// actions maps each planned control of a bucket to its action.
func actions(b plan.BucketPlan) map[settings.ControlID]string {
	m := map[settings.ControlID]string{}
	for _, c := range b.Changes {
		txt, _ := c.Action.MarshalText()
		m[c.Control] = string(txt)
	}
	return m
}

func TestPlanEndToEnd(t *testing.T) {
	srv := startEmulator(t, "e2e")
	p := planJSON(t, srv)

	if p.Account != "123456789012" {
		t.Errorf("account = %q, want 123456789012", p.Account)
	}
	if p.Baseline.Name != "high" || !strings.HasPrefix(p.Baseline.Digest, "sha256:") {
		t.Errorf("baseline = %+v, want high with a sha256 digest", p.Baseline)
	}

	cases := map[string]struct {
		reason  string
		region  string
		base    string
		actions map[settings.ControlID]string
	}{
		"legacy-archive": {
			reason: "a bucket from before 2023 answers 404 for everything: every control is created",
			region: "us-east-1", base: "high",
			actions: map[settings.ControlID]string{
				settings.BlockPublicAccess: "create", settings.ObjectOwnership: "create",
				settings.DefaultEncryption: "create", settings.AccessLogging: "create",
				settings.TLSOnly: "create", settings.AdminPolicyLock: "create",
				settings.EventNotifications: "create", settings.BlockSSEC: "create",
				settings.Versioning: "create",
			},
		},
		"modern-default": {
			reason: "a new bucket already has BPA and BucketOwnerEnforced; SSE-S3 must become the customer key",
			region: "us-east-1", base: "high",
			actions: map[settings.ControlID]string{
				settings.BlockPublicAccess: "no-op", settings.ObjectOwnership: "no-op",
				settings.DefaultEncryption: "update", settings.AccessLogging: "create",
				settings.TLSOnly: "create", settings.AdminPolicyLock: "create",
				settings.EventNotifications: "create", settings.BlockSSEC: "no-op",
				settings.Versioning: "create",
			},
		},
		"compliant-high": {
			reason: "a fully compliant bucket in the second region has nothing to change",
			region: "eu-west-1", base: "high",
			actions: map[settings.ControlID]string{
				settings.BlockPublicAccess: "no-op", settings.ObjectOwnership: "no-op",
				settings.DefaultEncryption: "no-op", settings.AccessLogging: "no-op",
				settings.TLSOnly: "no-op", settings.AdminPolicyLock: "no-op",
				settings.EventNotifications: "no-op", settings.BlockSSEC: "no-op",
				settings.Versioning: "no-op",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := bucketPlan(t, p, name)
			if b.Region != tc.region || b.Baseline != tc.base {
				t.Errorf("%s: region/baseline = %s/%s, want %s/%s", tc.reason, b.Region, b.Baseline, tc.region, tc.base)
			}
			if diff := cmp.Diff(tc.actions, actions(b)); diff != "" {
				t.Errorf("%s: actions (-want +got):\n%s", tc.reason, diff)
			}
			if len(b.Errors) > 0 {
				t.Errorf("%s: unexpected errors %q", tc.reason, b.Errors)
			}
		})
	}

	t.Run("config rule puts a bucket on low", func(t *testing.T) {
		b := bucketPlan(t, p, "public-downloads-site")
		if b.Baseline != "low" {
			t.Fatalf("baseline = %q, want low (rule public-downloads-*)", b.Baseline)
		}
		for _, c := range b.Changes {
			if c.Control == settings.BlockPublicAccess || c.Control == settings.TLSOnly {
				t.Errorf("low must not plan %s, got %+v", c.Control, c)
			}
		}
	})

	t.Run("exemption with a future until", func(t *testing.T) {
		b := bucketPlan(t, p, "analytics-events")
		if _, ok := actions(b)[settings.EventNotifications]; ok {
			t.Errorf("event_notifications is exempt until 2099-06-30 but planned: %+v", b.Changes)
		}
		want := []string{"event_notifications until 2099-06-30"}
		var got []string
		for _, e := range b.Exempt {
			got = append(got, string(e.Control)+" until "+e.Until)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("exempt (-want +got):\n%s", diff)
		}
	})

	t.Run("exemption with a past until lapses", func(t *testing.T) {
		b := bucketPlan(t, p, "analytics-old")
		if actions(b)[settings.EventNotifications] != "create" {
			t.Errorf("the lapsed exemption must not hold: event_notifications = %q", actions(b)[settings.EventNotifications])
		}
		if len(b.Exempt) != 0 {
			t.Errorf("lapsed exemption still listed as exempt: %+v", b.Exempt)
		}
		if !containsAll(strings.Join(b.Warnings, "\n"), "lapsed", "2024-01-31", "event_notifications") {
			t.Errorf("the plan must say the exemption lapsed; warnings: %q", b.Warnings)
		}
	})

	t.Run("foreign policy statements and notifications are shown as kept", func(t *testing.T) {
		b := bucketPlan(t, p, "shared-data")
		if b.Preserved == nil {
			t.Fatalf("no preserved entries for shared-data: %+v", b)
		}
		kept := strings.Join(append(append([]string{}, b.Preserved.PolicyStatements...), b.Preserved.Notifications...), "\n")
		if !containsAll(kept, "AllowPartnerRead", "no Sid", "ingest", "EventBridge") {
			t.Errorf("kept = %q, want the partner statement, the Sid-less statement, the ingest queue and EventBridge", kept)
		}
		if actions(b)[settings.TLSOnly] != "create" {
			t.Errorf("tls_only = %q, want create (foreign statements do not deny insecure transport)", actions(b)[settings.TLSOnly])
		}
	})

	t.Run("log target buckets keep SSE-S3 and do not log into themselves", func(t *testing.T) {
		b := bucketPlan(t, p, "s3baseline-logs-123456789012-eu-west-1")
		a := actions(b)
		if a[settings.DefaultEncryption] != "no-op" {
			t.Errorf("default_encryption of a log target = %q, want no-op (SSE-S3 kept)", a[settings.DefaultEncryption])
		}
		if _, ok := a[settings.AccessLogging]; ok {
			t.Errorf("a log target must not be logged into itself: %+v", b.Changes)
		}
	})

	t.Run("summary", func(t *testing.T) {
		if p.Summary.Buckets != len(p.Buckets) || p.Summary.Errors != 0 || p.Summary.Compliant < 1 || p.Empty() {
			t.Errorf("summary = %+v for %d buckets", p.Summary, len(p.Buckets))
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestPlanTextGolden(t *testing.T) {
	srv := startEmulator(t, "e2e")
	r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL())
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	golden := filepath.Join(repoTestdata, "e2e_plan.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if r.stdout != string(want) {
		t.Errorf("plan text differs from %s (run go test -update and review the diff):\n%s", golden, r.stdout)
	}
}

func TestPlanDetailedExitCode(t *testing.T) {
	srv := startEmulator(t, "e2e")
	cfg := filepath.Join(repoTestdata, "e2e.yaml")
	cases := map[string]struct {
		reason string
		args   []string
		want   int
	}{
		"changes": {"the scenario has non-compliant buckets", nil, 2},
		"compliant": {"scoped to the compliant bucket there is nothing to do",
			[]string{"--bucket", "compliant-high"}, 0},
		"compliant by region and glob": {"globs and regions narrow the scope",
			[]string{"--bucket", "compliant-*", "--region", "eu-west-1"}, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"plan", "--config", cfg, "--endpoint-url", srv.URL(), "--detailed-exitcode"}, tc.args...)
			r := runCLI(t, args...)
			if r.code != tc.want {
				t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.reason, r.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestPlanOutAndShow(t *testing.T) {
	srv := startEmulator(t, "e2e")
	out := filepath.Join(t.TempDir(), "plan.json")
	r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--out", out)
	if r.code != 0 {
		t.Fatalf("plan --out exited %d: %s", r.code, r.stderr)
	}
	// Flags after the positional argument work too.
	shown := runCLI(t, "show", out, "--json")
	if shown.code != 0 {
		t.Fatalf("show exited %d: %s", shown.code, shown.stderr)
	}
	saved, err := plan.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(shown.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(saved.Summary, p.Summary); diff != "" {
		t.Errorf("show --json disagrees with the saved plan (-saved +shown):\n%s", diff)
	}
	text := runCLI(t, "show", out)
	if text.code != 0 || !strings.Contains(text.stdout, "legacy-archive") {
		t.Errorf("show (text) exited %d:\n%s%s", text.code, text.stdout, text.stderr)
	}
}

// TestBadInput: every bad input gets exit 1 and exactly one clear line on
// stderr, never a panic or a usage dump.
func TestBadInput(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := filepath.Join(dir, "good.json")
	if r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--out", good); r.code != 0 {
		t.Fatalf("plan --out: %s", r.stderr)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	edited := write("edited.json", strings.Replace(string(raw), `"legacy-archive"`, `"legacy-archivf"`, 1))
	damaged := write("damaged.json", string(raw[:len(raw)/2]))
	future := write("future.json", strings.Replace(string(raw), `"format_version":1`, `"format_version":99`, 1))
	if !strings.Contains(string(raw), `"format_version":1,`) {
		t.Fatal("the plan file does not begin as the streamed layout does; the edits below would not apply")
	}

	cases := map[string]struct {
		args []string
		want []string // substrings of the one stderr line
	}{
		"unknown baseline": {[]string{"plan", "--baseline", "hihg", "--endpoint-url", srv.URL()},
			[]string{"--baseline", `"hihg"`}},
		"malformed yaml": {[]string{"plan", "--config", write("bad.yaml", "baseline: high\nbuckets: [\n  - match: x\n"), "--endpoint-url", srv.URL()},
			[]string{"bad.yaml"}},
		"unknown key": {[]string{"plan", "--config", write("key.yaml", "baseline: high\nsetings:\n  logging: {}\n"), "--endpoint-url", srv.URL()},
			[]string{"key.yaml:2", "setings"}},
		"unknown control": {[]string{"plan", "--config", write("ctl.yaml", "baseline: high\nbuckets:\n  - match: x\n    exempt: [event_notification]\n    reason: r\n"), "--endpoint-url", srv.URL()},
			[]string{"ctl.yaml:4", "event_notification"}},
		"bad glob": {[]string{"plan", "--config", write("glob.yaml", "baseline: high\nbuckets:\n  - match: \"logs-[\"\n    baseline: low\n"), "--endpoint-url", srv.URL()},
			[]string{"glob.yaml:3", "logs-["}},
		// One error at load time, not one identical error per bucket.
		"high without admin principals": {[]string{"plan", "--config", write("nolock.yaml", "baseline: high\n"), "--endpoint-url", srv.URL()},
			[]string{"nolock.yaml", "settings.admin_lock.deny", "admin_policy_lock"}},
		"damaged plan file": {[]string{"show", damaged}, []string{"damaged.json"}},
		"edited plan file":  {[]string{"show", edited}, []string{"edited.json", "checksum"}},
		"unknown format":    {[]string{"show", future}, []string{"future.json", "format_version", "99"}},
		"unreachable endpoint": {[]string{"plan", "--baseline", "low", "--endpoint-url", "http://127.0.0.1:1"},
			[]string{"127.0.0.1:1"}},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "s3baseline: ") {
				t.Fatalf("want exactly one line 's3baseline: ...' on stderr, got %q", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("error line %q does not name %q", lines[0], w)
				}
			}
		})
	}
}

// TestPlanAPICalls counts what plan asks AWS for, per bucket: never
// GetBucketLocation when ListBuckets gave the region, and no more calls than
// the aspects the bucket's controls are judged from, plus its tags (config
// rules, CloudFormation) and, only where Block Public Access would change,
// its website configuration.
func TestPlanAPICalls(t *testing.T) {
	srv := startEmulator(t, "e2e")
	srv.ResetCalls()
	p := planJSON(t, srv)
	perBucket := map[string]map[string]int{}
	for _, c := range srv.Calls() {
		if c.Operation == "GetBucketLocation" || c.Operation == "HeadBucket" {
			t.Errorf("%s on %q: ListBuckets already gave the region", c.Operation, c.Bucket)
		}
		if c.Status == 301 {
			t.Errorf("%s on %q went to the wrong region (%s)", c.Operation, c.Bucket, c.Region)
		}
		if c.Bucket == "" {
			continue
		}
		if perBucket[c.Bucket] == nil {
			perBucket[c.Bucket] = map[string]int{}
		}
		perBucket[c.Bucket][c.Operation]++
	}
	snap := srv.Snapshot()
	for _, b := range p.Buckets {
		ops := perBucket[b.Name]
		// Every aspect the plan lists as observed is one call, and the
		// extra reads (tags, and what the impact rules need: the website,
		// the ACL, S3's verdict on the policy) are made only for a bucket
		// with changes: a compliant bucket costs its controls' aspects.
		aspects := map[settings.Aspect]bool{}
		for _, a := range b.Observed {
			aspects[a] = true
		}
		if b.Compliant() {
			// The report-mode controls are judged on every bucket too.
			bl, _ := baselines.Builtin(b.Baseline)
			reported := plan.Reported(baselines.Assignment{Baseline: bl})
			for a := range aspects {
				// Tags: e2e.yaml's rules match on them, so every bucket's are read.
				if a != settings.AspectTags && !slices.ContainsFunc(b.Changes, func(c plan.Change) bool { return slices.Contains(settings.AspectsFor(c.Control), a) }) &&
					!slices.ContainsFunc(reported, func(id settings.ControlID) bool { return slices.Contains(settings.AspectsFor(id), a) }) {
					t.Errorf("bucket %q complies but %s was read", b.Name, a)
				}
			}
		}
		total := 0
		for op, n := range ops {
			if n != 1 {
				t.Errorf("bucket %q: %s called %d times, want once", b.Name, op, n)
			}
			total += n
		}
		want := len(aspects)
		if aspects[settings.AspectACL] && aspects[settings.AspectOwnership] && snap.Buckets[b.Name].Ownership == "BucketOwnerEnforced" {
			// ACLs disabled: S3 answers GetBucketAcl with the owner's
			// full control whatever is stored, and the provider knows the
			// owner from ListBuckets, so it gives that answer unasked.
			if ops["GetBucketAcl"] != 0 {
				t.Errorf("bucket %q: GetBucketAcl called with BucketOwnerEnforced", b.Name)
			}
			want--
		}
		if total != want {
			t.Errorf("bucket %q: %d calls %v for %d aspects, want %d", b.Name, total, ops, len(aspects), want)
		}
		if total == 0 {
			t.Errorf("bucket %q: no calls counted: the emulator did not see the plan", b.Name)
		}
	}
}
