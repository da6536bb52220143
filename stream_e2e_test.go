package main

// End-to-end tests of the streamed plan file: written one bucket per line
// while the plan is made, read back by show and apply without being held
// whole, refused when cut short.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/plan"
)

func TestStreamedPlanRoundTrip(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	made := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--out", planFile)
	if made.code != 0 {
		t.Fatalf("plan --out exited %d: %s", made.code, made.stderr)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := plan.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if want := len(saved.Buckets) + 2; len(lines) != want || !strings.HasPrefix(lines[0], `{"format_version":1,`) {
		t.Fatalf("plan file: %d lines starting %.40q, want %d: a header, one line per bucket, a tail", len(lines), lines[0], want)
	}
	if !strings.Contains(lines[len(lines)-1], `"checksum":"`+saved.Checksum+`"`) {
		t.Errorf("the last line does not carry the checksum %s: %.200s", saved.Checksum, lines[len(lines)-1])
	}

	// show prints what plan printed, from the file alone.
	shown := runCLI(t, "show", planFile)
	if shown.code != 0 {
		t.Fatalf("show exited %d: %s", shown.code, shown.stderr)
	}
	if !containsAll(shown.stdout, `# bucket "analytics-events"`, "\nPlan: ") {
		t.Errorf("show printed no plan:\n%s", shown.stdout)
	}
	if !strings.Contains(made.stdout, shown.stdout) {
		t.Errorf("show differs from the plan it shows:\n-- plan --\n%s\n-- show --\n%s", made.stdout, shown.stdout)
	}
	asJSON := runCLI(t, "show", planFile, "--json")
	if asJSON.code != 0 {
		t.Fatalf("show --json exited %d: %s", asJSON.code, asJSON.stderr)
	}
	var back plan.Plan
	if err := json.Unmarshal([]byte(asJSON.stdout), &back); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	if back.Checksum != saved.Checksum || len(back.Buckets) != len(saved.Buckets) {
		t.Errorf("show --json: checksum %s, %d buckets; the file has %s, %d", back.Checksum, len(back.Buckets), saved.Checksum, len(saved.Buckets))
	}
	var a, b bytes.Buffer
	if err := plan.Write(&a, saved); err != nil {
		t.Fatal(err)
	}
	if err := plan.Write(&b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.String(), b.String()); diff != "" {
		t.Errorf("show --json is not the plan file: -file, +shown:\n%s", diff)
	}

	// A cut-short file is refused by show and apply, before any write.
	cuts := map[string][]byte{
		"HeaderOnly":   []byte(lines[0] + "\n"),
		"MidBucket":    []byte(strings.Join(lines[:2], "\n") + "\n" + lines[2][:len(lines[2])/2]),
		"LastLineGone": []byte(strings.Join(lines[:len(lines)-1], "\n") + "\n"),
	}
	for name, cut := range cuts {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, cut, 0o600); err != nil {
			t.Fatal(err)
		}
		writes := len(srv.WriteCalls())
		for _, cmd := range [][]string{
			{"show", path},
			{"apply", path, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact", "--journal", filepath.Join(dir, name+".jsonl")},
		} {
			r := runCLI(t, cmd...)
			msg := strings.TrimSuffix(r.stderr, "\n")
			if r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, path+": not a plan file: truncated") {
				t.Errorf("%s of %s: exit %d, stderr %q; want 1 and one line naming the truncated file", cmd[0], name, r.code, r.stderr)
			}
		}
		if got := writeOps(srv)[writes:]; len(got) != 0 {
			t.Errorf("a truncated plan (%s) wrote %v", name, got)
		}
	}

	// The streamed file applies, and the account converges.
	journal := filepath.Join(dir, "journal.jsonl")
	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact", "--journal", journal)
	if r.code != 0 {
		t.Fatalf("apply of the streamed plan exited %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if len(srv.WriteCalls()) == 0 {
		t.Fatal("apply of the streamed plan wrote nothing")
	}
	if info, err := os.Stat(journal); err != nil || info.Size() == 0 {
		t.Errorf("no journal of the streamed apply: %v", err)
	}
	again := runCLI(t, "plan", "--config", applyConfig(), "--endpoint-url", srv.URL(), "--detailed-exitcode")
	if again.code != 0 {
		t.Errorf("plan after the streamed apply exited %d (want 0: no changes)\n%s%s", again.code, again.stdout, again.stderr)
	}
}
