package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// TestReportCommand: `report` reads saved plans (two shards merged) and
// writes CSV with a row per bucket and control, a Markdown summary, and
// ASFF; a bad format and a missing plan are one-line errors.
func TestReportCommand(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, x := range []struct{ file, glob string }{{a, "[a-l]*"}, {b, "[m-z]*"}} {
		if r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--bucket", x.glob, "--allow-empty", "--out", x.file); r.code != 0 {
			t.Fatalf("plan %s: %d %s", x.glob, r.code, r.stderr)
		}
	}
	r := runCLI(t, "report", "--format", "csv", a, b)
	if r.code != 0 {
		t.Fatalf("report csv: %d %s", r.code, r.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	buckets := map[string]bool{}
	for _, rec := range recs[1:] {
		buckets[rec[4]] = true
	}
	for _, want := range []string{"legacy-archive", "modern-default", "compliant-high"} {
		if !buckets[want] {
			t.Errorf("the merged CSV has no rows for %s", want)
		}
	}
	if m := runCLI(t, "report", "--format", "md", a, b); m.code != 0 || !strings.HasPrefix(m.stdout, "## s3baseline: ") || !strings.Contains(m.stdout, "| `versioning` |") {
		t.Errorf("report md: %d\n%s", m.code, m.stdout)
	}
	if f := runCLI(t, "report", "--format", "asff", "--region", "us-east-1", a); f.code != 0 || !strings.Contains(f.stdout, `"SchemaVersion": "2018-10-08"`) {
		t.Errorf("report asff: %d %s", f.code, f.stderr)
	}
	if o := runCLI(t, "report", "--format", "ocsf", a); o.code != 0 || !strings.Contains(o.stdout, `"class_uid": 2003`) {
		t.Errorf("report ocsf: %d %s", o.code, o.stderr)
	}
	if o := runCLI(t, "report", "--format", "oscal", a, b); o.code != 0 || strings.Count(o.stdout, `"reviewed-controls"`) != 2 || !strings.Contains(o.stdout, `"oscal-version": "1.1.3"`) {
		t.Errorf("report oscal (one result per plan): %d %s", o.code, o.stderr)
	}
	for _, bad := range [][]string{{"report", "--format", "pdf", a}, {"report", filepath.Join(dir, "none.json")}, {"report"}} {
		if x := runCLI(t, bad...); x.code != 1 || strings.Count(strings.TrimSpace(x.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d stderr %q, want one line and exit 1", bad, x.code, x.stderr)
		}
	}
}

// TestReportImportsToSecurityHub: report --format asff
// --import-to-security-hub sends every failing bucket and control of the
// plan to Security Hub; the emulator holds them all afterwards.
func TestReportImportsToSecurityHub(t *testing.T) {
	srv := startScenario(t, func(sc *emulator.Scenario) { sc.SecurityHub = true })
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--out", planFile); r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	r := runCLI(t, "report", "--format", "asff", "--region", "eu-west-1", "--import-to-security-hub", "--endpoint-url", srv.URL(), planFile)
	if r.code != 0 {
		t.Fatalf("report --import-to-security-hub: %d %s", r.code, r.stderr)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) == 0 {
		t.Fatalf("ASFF output: %v (%d findings)", err, len(out))
	}
	if got := len(srv.Snapshot().SecurityHubFindings["eu-west-1"]); got != len(out) {
		t.Errorf("Security Hub holds %d findings, the report wrote %d", got, len(out))
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("%d findings imported in eu-west-1", len(out))) {
		t.Errorf("stderr %q does not say how many were imported", r.stderr)
	}
}

// TestReportFromS3: report reads every plan and run report under an
// s3:// prefix (where a schedule keeps them); a plan and a run report are
// two points of the HTML report's drift chart.
func TestReportFromS3(t *testing.T) {
	srv := startEmulator(t, "e2e")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if r := runCLI(t, "plan", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL(), "--out", planFile,
		"--report", "s3://compliant-high/evidence/run-1.json"); r.code != 0 {
		t.Fatalf("plan: %d %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := awsprovider.New(context.Background(), awsprovider.Options{EndpointURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateObject(context.Background(), "compliant-high", "evidence/plan-1.json", data); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "report", "--format", "html", "--endpoint-url", srv.URL(), "s3://compliant-high/evidence/")
	if r.code != 0 || !strings.Contains(r.stdout, "<polyline") || !strings.Contains(r.stdout, `id="grid"`) {
		t.Errorf("report from s3 (exit %d, %s): no grid or no drift chart of the plan and the run report", r.code, r.stderr)
	}
	if r := runCLI(t, "report", "--endpoint-url", srv.URL(), "s3://compliant-high/nothing/"); r.code != 1 || !strings.Contains(r.stderr, "no .json objects") {
		t.Errorf("an empty prefix: %d %q", r.code, r.stderr)
	}
}
