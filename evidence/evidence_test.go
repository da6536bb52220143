package evidence

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// mixedPlan is the plan package's mixed scenario, as its JSON golden has it.
func mixedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "plan", "testdata", "mixed_json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./evidence -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./evidence -update after checking):\n%s", name, got)
	}
}

func TestCSVAndMarkdownGolden(t *testing.T) {
	rows := FromPlan(mixedPlan(t))
	Sort(rows)
	var csv, md bytes.Buffer
	if err := WriteCSV(&csv, rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rows); err != nil {
		t.Fatal(err)
	}
	golden(t, "mixed.csv", csv.Bytes())
	golden(t, "mixed.md", md.Bytes())
	if n := strings.Count(md.String(), "\n"); n > 60 {
		t.Errorf("the Markdown summary has %d lines: too long for a ticket", n)
	}
	if strings.Contains(md.String(), "http") {
		t.Error("the Markdown summary has a link")
	}
}

// TestRowsFollowThePlan: every checked control of every bucket is a row,
// a pass or a failure as the plan says; findings, exemptions and errors
// are rows too; a run report's fixed controls become fixed.
func TestRowsFollowThePlan(t *testing.T) {
	p := mixedPlan(t)
	rows := FromPlan(p)
	want := 0
	for _, a := range p.Sections() {
		for _, b := range a.Buckets {
			want += len(b.Changes) + len(b.Findings) + len(b.Exempt) + len(b.Errors) + len(reportPasses(Row{}, b, baselinesOf(p.Scope.Settings)[b.Baseline]))
		}
		want += len(a.AccountChanges) + len(a.Findings) + len(a.Errors)
	}
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	fails := 0
	for _, r := range rows {
		if r.Status == Fail || r.Status == Held {
			fails++
		}
	}
	if fails != p.Summary.Changes {
		t.Errorf("%d failing rows, the plan has %d changes", fails, p.Summary.Changes)
	}
	rep := &report.Report{Accounts: []report.Account{{Account: p.Account, Buckets: []report.Bucket{{Name: "legacy-archive", Fixed: []settings.ControlID{settings.Versioning}}}}}}
	MarkFixed(rows, rep)
	fixed := 0
	for _, r := range rows {
		if r.Status == Fixed {
			fixed++
			if r.Resource != "legacy-archive" || r.Control != settings.Versioning {
				t.Errorf("fixed %+v", r)
			}
		}
	}
	if fixed != 1 {
		t.Errorf("%d fixed rows, want 1", fixed)
	}
}

// TestASFFFindings: one finding per failing row, with the fields Security
// Hub requires set (providers/aws checks them against the SDK's types and
// imports them into the emulator).
func TestASFFFindings(t *testing.T) {
	rows := FromPlan(mixedPlan(t))
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	fs := ToASFF(rows, "aws", "eu-west-1", now)
	failing := 0
	for _, r := range rows {
		if r.Status == Fail || r.Status == Held || r.Status == Finding {
			failing++
		}
	}
	if len(fs) != failing || failing == 0 {
		t.Fatalf("%d findings for %d failing rows", len(fs), failing)
	}
	ids := map[string]bool{}
	for _, f := range fs {
		if ids[f.ID] {
			t.Errorf("duplicate finding id %s", f.ID)
		}
		ids[f.ID] = true
		if f.SchemaVersion != "2018-10-08" || f.ProductArn != "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default" ||
			f.AwsAccountID != "123456789012" || len(f.Resources) != 1 || f.Resources[0].ID == "" || f.Severity.Label == "" ||
			f.Title == "" || f.Description == "" || f.Compliance.Status != "FAILED" || len(f.Types) == 0 {
			t.Errorf("finding lacks a required field: %+v", f)
		}
	}
}

// TestHTMLPage: the page is self-contained (no URL to fetch), says the
// score, and with several plans of the estate draws the failing controls
// over time; one plan draws no chart. (The browser test renders it.)
func TestHTMLPage(t *testing.T) {
	p := mixedPlan(t)
	rows := FromPlan(p)
	var one, two bytes.Buffer
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if err := WriteHTML(&one, []PlanRows{{Source: "a", Created: p.CreatedAt, Rows: rows}}, nil, now); err != nil {
		t.Fatal(err)
	}
	later := append([]Row(nil), rows...)
	for i := range later[:len(later)/2] {
		if later[i].Status == Fail {
			later[i].Status = Pass
		}
	}
	if err := WriteHTML(&two, []PlanRows{{Source: "a", Created: p.CreatedAt, Rows: rows}, {Source: "b", Created: p.CreatedAt.Add(24 * time.Hour), Rows: later}}, nil, now); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{one.String(), two.String()} {
		for _, bad := range []string{"http://", "https://", "src=", "@import"} {
			if strings.Contains(page, bad) {
				t.Errorf("the page refers to something outside itself (%q)", bad)
			}
		}
		if !strings.Contains(page, `id="score"`) || !strings.Contains(page, "Content-Security-Policy") {
			t.Error("no score or no Content-Security-Policy")
		}
	}
	if strings.Contains(one.String(), "<polyline") || !strings.Contains(two.String(), "<polyline") {
		t.Error("the drift chart is drawn for one plan, or not for two")
	}
	// A plan and a later apply's run report are two points too.
	var withRun bytes.Buffer
	run := &report.Report{StartedAt: p.CreatedAt.Add(time.Hour), Accounts: []report.Account{{Account: p.Account,
		Buckets: []report.Bucket{{Name: "legacy-archive", Drift: []report.Control{{Control: settings.TLSOnly}}, Fixed: []settings.ControlID{}}}}}}
	if err := WriteHTML(&withRun, []PlanRows{{Source: "a", Created: p.CreatedAt, Rows: rows}}, []*report.Report{run}, now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(withRun.String(), "<polyline") || !strings.Contains(withRun.String(), ": 1 failing</title>") {
		t.Error("a run report is not a point of the drift chart")
	}
}

// TestOCSFFindings: one Compliance Finding per failing row, with the
// class's required attributes and consistent class and type ids.
func TestOCSFFindings(t *testing.T) {
	rows := FromPlan(mixedPlan(t))
	fs := ToOCSF(rows, "aws", "0.1.0", time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	asff := ToASFF(rows, "aws", "eu-west-1", time.Now())
	if len(fs) != len(asff) || len(fs) == 0 {
		t.Fatalf("%d OCSF findings, %d ASFF: want one each per failing row", len(fs), len(asff))
	}
	for _, f := range fs {
		if f.ClassUID != 2003 || f.CategoryUID != 2 || f.TypeUID != 200301 || f.SeverityID < 2 || f.Time == 0 ||
			f.Metadata.Version == "" || f.Metadata.Product.Name == "" || f.FindingInfo.UID == "" || f.FindingInfo.Title == "" ||
			f.Compliance.StatusID != 3 || len(f.Compliance.Standards) == 0 || len(f.Resources) != 1 || f.Cloud.Account.UID == "" {
			t.Errorf("finding lacks a required attribute: %+v", f)
		}
	}
}
