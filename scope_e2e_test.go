package main

// No false green: a scope that names something that is not there (a typo'd
// region, a glob or config rule that matches no bucket) is an error naming
// it, never a plan of nothing that exits 0 as if all were compliant.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestScopeMatchesSomething(t *testing.T) {
	srv := startEmulator(t, "e2e") // buckets in us-east-1 and eu-west-1
	dir := t.TempDir()
	config := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const lock = "settings:\n  admin_lock:\n    deny: [\"arn:aws:iam::123456789012:role/LegacyFullAdmin\"]\n"
	e2e := filepath.Join(repoTestdata, "e2e.yaml")

	cases := map[string]struct {
		reason string
		args   []string
		code   int
		// want holds, per stderr line, substrings it must contain; the
		// line count must match.
		want [][]string
		// note is a substring of a note line with --allow-empty.
		note string
	}{
		"fake region": {
			reason: "a region no AWS partition has",
			args:   []string{"--config", e2e, "--region", "xx-fake-1", "--detailed-exitcode"},
			code:   1, want: [][]string{{"--region", `"xx-fake-1"`}},
		},
		"uppercase region": {
			reason: "AWS region names are lowercase; the error says the right one",
			args:   []string{"--config", e2e, "--region", "EU-WEST-1"},
			code:   1, want: [][]string{{"--region", `"EU-WEST-1"`, "region names are lowercase: eu-west-1"}},
		},
		"typo region flag": {
			reason: "well formed, no such region: the known list catches it",
			args:   []string{"--config", e2e, "--region", "eu-wst-1"},
			code:   1, want: [][]string{{"--region", `unknown region "eu-wst-1"`, "did you mean eu-west-1?", "known: "}},
		},
		"typo region in config": {
			reason: "the config's regions are checked the same way, naming file, line and key",
			args:   []string{"--config", config("typo.yaml", "baseline: high\nregions: [eu-wst-1]\n"+lock)},
			code:   1, want: [][]string{{"typo.yaml:2: regions[0]", `unknown region "eu-wst-1"`}},
		},
		"glob matches nothing": {
			reason: "a --bucket glob no bucket matches",
			args:   []string{"--config", e2e, "--bucket", "nomatch*", "--detailed-exitcode"},
			code:   1, want: [][]string{{`--bucket "nomatch*" matches no bucket`, "--allow-empty"}},
		},
		"one glob of two matches nothing": {
			reason: "each glob must match: the one that does not is named, alone",
			args:   []string{"--config", e2e, "--bucket", "legacy-*", "--bucket", "nomatch*"},
			code:   1, want: [][]string{{`--bucket "nomatch*"`}},
		},
		"glob matches only outside the region": {
			reason: "legacy-archive is in us-east-1: with --region eu-west-1 neither filter matches a bucket the other admits",
			args:   []string{"--config", e2e, "--bucket", "legacy-*", "--region", "eu-west-1"},
			code:   1, want: [][]string{{`--bucket "legacy-*" matches no bucket`}, {`--region "eu-west-1" matches no bucket`}},
		},
		"region with no bucket": {
			reason: "a real region the account has no bucket in",
			args:   []string{"--config", e2e, "--region", "ap-southeast-2"},
			code:   1, want: [][]string{{`--region "ap-southeast-2" matches no bucket`}},
		},
		"region outside the config's": {
			reason: "a --region the config's regions exclude can never have a bucket in scope",
			args:   []string{"--config", config("eu.yaml", "baseline: high\nregions: [eu-west-1]\n"+lock), "--region", "us-east-1"},
			code:   1, want: [][]string{{`--region "us-east-1" is not among the config's regions (eu-west-1)`}},
		},
		"config region with no bucket": {
			reason: "a config region no bucket is in is named by file, line and key",
			args:   []string{"--config", config("regions.yaml", "baseline: high\nregions:\n  - eu-west-1\n  - eu-west-3\n"+lock)},
			code:   1, want: [][]string{{`regions.yaml:4: regions[1] "eu-west-3" matches no bucket`}},
		},
		"config rules that match nothing": {
			reason: "a rule on a name and one on tags that no bucket has, each one line with its file and line",
			args: []string{"--config", config("rules.yaml", "baseline: high\n"+lock+
				"buckets:\n  - match: \"legacy-*\"\n    baseline: medium\n  - match: \"publik-*\"\n    baseline: low\n  - match_tags: {team: nobody}\n    exempt: [tls_only]\n    reason: r\n")},
			code: 1, want: [][]string{
				{`rules.yaml:8: buckets[1] (match "publik-*") matches no bucket`},
				{`rules.yaml:10: buckets[2] (match_tags {team: nobody}) matches no bucket`},
			},
		},
		"name rules judged on the whole listing": {
			reason: "narrowing the run with --bucket does not make the config's rules for other buckets errors",
			args:   []string{"--config", e2e, "--bucket", "legacy-*"},
			code:   0,
		},
		"allow-empty": {
			reason: "--allow-empty lets a glob that matches nothing pass, with a note",
			args:   []string{"--config", e2e, "--bucket", "nomatch*", "--allow-empty", "--detailed-exitcode"},
			code:   0, note: `note: --bucket "nomatch*" matches no bucket (allowed by --allow-empty)`,
		},
		"everything matches": {
			reason: "the e2e config's rules all match a bucket of the e2e scenario",
			args:   []string{"--config", e2e},
			code:   0,
		},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, append([]string{"plan", "--endpoint-url", srv.URL()}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.reason, r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == 0 {
				if tc.note != "" && !strings.Contains(r.stderr, tc.note) {
					t.Errorf("%s: stderr %q lacks the note %q", tc.reason, r.stderr, tc.note)
				}
				if tc.note == "" && r.stderr != "" {
					t.Errorf("%s: stderr %q, want nothing", tc.reason, r.stderr)
				}
				return
			}
			if strings.Contains(r.stdout, "No buckets in scope") {
				t.Errorf("%s: a plan of nothing was printed:\n%s", tc.reason, r.stdout)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%s: %d stderr lines, want %d:\n%s", tc.reason, len(lines), len(tc.want), r.stderr)
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, "s3baseline: ") {
					t.Errorf("line %q is not an s3baseline error line", l)
				}
				for _, w := range tc.want[i] {
					if !strings.Contains(l, w) {
						t.Errorf("%s: line %q does not contain %q", tc.reason, l, w)
					}
				}
			}
		})
	}
}

// TestScopeMatchesSomethingInOrg: over an organization a glob or rule is a
// typo only when it matches no bucket in any account: org.yaml's rule for
// public-downloads-* matches in one account of three, and passes.
func TestScopeMatchesSomethingInOrg(t *testing.T) {
	org := startOrg(t)
	base := []string{"plan", "--config", orgConfig(), "--endpoint-url", org.URL(), "--accounts", "all", "--role-name", orgRole}

	if r := runCLI(t, append(base, "--bucket", "app-*")...); r.code != 0 {
		t.Errorf("a glob matching buckets of one account: exit %d\n%s", r.code, r.stderr)
	}
	r := runCLI(t, append(base, "--bucket", "nomatch*")...)
	if r.code != 1 {
		t.Fatalf("a glob matching nothing in any account: exit %d, want 1\n%s", r.code, r.stderr)
	}
	want := `s3baseline: --bucket "nomatch*" matches no bucket in any of the 3 accounts planned`
	var errs []string
	for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "s3baseline: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
		t.Errorf("error lines %q, want one: %q", errs, want)
	}
	// A shard sees part of the organization: what matches nothing there
	// may match in another shard, so it is a note, not an error.
	r = runCLI(t, append(base, "--shard", "0/3", "--bucket", "public-downloads-*")...)
	if r.code != 0 {
		t.Errorf("--shard 0/3 with a glob matching in another shard: exit %d\n%s", r.code, r.stderr)
	}
}
