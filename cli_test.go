package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/baselines"
)

// TestBaselinesCommand: the baselines are data the operator can read.
func TestBaselinesCommand(t *testing.T) {
	isolateAWSEnv(t)
	list := runCLI(t, "baselines", "list")
	if list.code != 0 {
		t.Fatalf("baselines list exited %d: %s", list.code, list.stderr)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		names = append(names, strings.Fields(l)[0])
	}
	if diff := cmp.Diff([]string{"low", "medium", "high"}, names); diff != "" {
		t.Errorf("baselines list (-want +got):\n%s", diff)
	}

	show := runCLI(t, "baselines", "show", "high", "--json")
	if show.code != 0 {
		t.Fatalf("baselines show high --json exited %d: %s", show.code, show.stderr)
	}
	var b baselines.Baseline
	if err := json.Unmarshal([]byte(show.stdout), &b); err != nil {
		t.Fatalf("not a baseline document: %v", err)
	}
	spec, ok := b.Spec("admin_policy_lock")
	if !ok || strings.Join(spec.NIST, ",") != "AC-5,AC-6" {
		t.Errorf("high's admin_policy_lock = %+v, %v; want NIST AC-5, AC-6", spec, ok)
	}

	text := runCLI(t, "baselines", "show", "low")
	if text.code != 0 || !strings.Contains(text.stdout, "access_logging") || strings.Contains(text.stdout, "block_public_access") {
		t.Errorf("baselines show low: exit %d\n%s", text.code, text.stdout)
	}

	custom := filepath.Join(t.TempDir(), "pci.yaml")
	if err := os.WriteFile(custom, []byte("name: pci\nextends: medium\nremove: [event_notifications]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := runCLI(t, "baselines", "show", custom)
	if c.code != 0 || !strings.Contains(c.stdout, "baseline pci") || strings.Contains(c.stdout, "event_notifications") {
		t.Errorf("baselines show FILE: exit %d\n%s%s", c.code, c.stdout, c.stderr)
	}

	unknown := runCLI(t, "baselines", "show", "hihg")
	if unknown.code != 1 || !strings.Contains(unknown.stderr, `"hihg"`) {
		t.Errorf("baselines show hihg: exit %d, stderr %q", unknown.code, unknown.stderr)
	}
}

func TestPlanNeedsABaseline(t *testing.T) {
	isolateAWSEnv(t)
	r := runCLI(t, "plan", "--endpoint-url", "http://127.0.0.1:1")
	if r.code != 1 || !strings.Contains(r.stderr, "no baseline") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("plan without a baseline: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestReorderArgs(t *testing.T) {
	app := newApp(&env{})
	cases := map[string]struct {
		in, want []string
	}{
		"flag after positional": {
			[]string{"s3baseline", "show", "plan.json", "--json"},
			[]string{"s3baseline", "show", "--json", "plan.json"}},
		"value flag keeps its value": {
			[]string{"s3baseline", "apply", "plan.json", "--journal", "j.jsonl", "--auto-approve"},
			[]string{"s3baseline", "apply", "--journal", "j.jsonl", "--auto-approve", "plan.json"}},
		"subcommand": {
			[]string{"s3baseline", "baselines", "show", "high", "--json"},
			[]string{"s3baseline", "baselines", "show", "--json", "high"}},
		"after --": {
			[]string{"s3baseline", "show", "--", "--json"},
			[]string{"s3baseline", "show", "--", "--json"}},
	}
	for name, tc := range cases {
		if diff := cmp.Diff(tc.want, reorderArgs(app, tc.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestNoCredentials: with no credentials anywhere (no keys, no profile, no
// shared files, no instance metadata) the run fails with one line saying
// what to set, not the SDK's account of every link of its chain.
func TestNoCredentials(t *testing.T) {
	srv := startEmulator(t, "e2e")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "",
		"AWS_SECRET_ACCESS_KEY":       "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL())
	want := "s3baseline: observe account: get caller identity: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on a machine with a role\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and:\n%s", r.code, r.stderr, want)
	}
}

// TestUsageErrors: a command line that does not parse is one line with
// where to look, never the whole help text.
func TestUsageErrors(t *testing.T) {
	isolateAWSEnv(t)
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":            {[]string{"plan", "--bukcet", "x"}, "s3baseline: plan: unknown flag --bukcet; see s3baseline plan --help"},
		"unknown flag, apply":     {[]string{"apply", "plan.json", "--auto-aprove"}, "s3baseline: apply: unknown flag --auto-aprove; see s3baseline apply --help"},
		"unknown flag, subcmd":    {[]string{"baselines", "show", "high", "--jsn"}, "s3baseline: baselines show: unknown flag --jsn; see s3baseline baselines show --help"},
		"flag without its value":  {[]string{"plan", "--out"}, "s3baseline: plan: flag --out needs a value; see s3baseline plan --help"},
		"flag with a bad value":   {[]string{"plan", "--account-concurrency", "many"}, `s3baseline: plan: --account-concurrency: invalid value "many": parse error; see s3baseline plan --help`},
		"concurrency not a count": {[]string{"plan", "--baseline", "high", "--concurrency", "many"}, `s3baseline: --concurrency "many": want a number from 1 to 1024, or auto`},
		"unknown top-level flag":  {[]string{"--bogus"}, "s3baseline: unknown flag --bogus; see s3baseline --help"},
		"unknown command":         {[]string{"plna"}, `s3baseline: unknown command "plna"; see s3baseline --help`},
		"unknown flag, rollback":  {[]string{"rollback", "--forse", "j.jsonl"}, "s3baseline: rollback: unknown flag --forse; see s3baseline rollback --help"},
		"unknown flag, show":      {[]string{"show", "--jsno", "plan.json"}, "s3baseline: show: unknown flag --jsno; see s3baseline show --help"},
		"unknown flag after args": {[]string{"show", "plan.json", "--jsno"}, "s3baseline: show: unknown flag --jsno; see s3baseline show --help"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != 1 || r.stderr != tc.want+"\n" || r.stdout != "" {
				t.Errorf("exit %d\nstdout: %q\nstderr: %q\nwant exit 1, no stdout, stderr %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}
