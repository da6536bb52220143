package evidence

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

// TestOSCALValidAgainstMetaschemas: the assessment results of the mixed
// plan satisfy NIST's OSCAL 1.1.3 definitions for every part they use,
// and the validator is not lenient: a document missing a required field,
// with a bad UUID, an open state or an unknown key is refused.
func TestOSCALValidAgainstMetaschemas(t *testing.T) {
	m, err := loadMetaschemas("testdata/oscal-1.1.3")
	if err != nil {
		t.Fatal(err)
	}
	p := mixedPlan(t)
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	rows := FromPlan(p)
	MarkFixed(rows, &report.Report{StartedAt: now, Journal: "s3://evidence/journal-1/", Accounts: []report.Account{{Account: p.Account,
		Buckets: []report.Bucket{{Name: "legacy-archive", Fixed: []settings.ControlID{settings.Versioning}}}}}})
	if err := WriteOSCAL(&buf, []PlanRows{{Source: "plan.json", Created: p.CreatedAt, Rows: rows}}, "0.1.0", now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "journal s3://evidence/journal-1/") {
		t.Error("the observation of a fixed control does not name the apply's journal")
	}
	if errs := validateOSCAL(t, m, buf.Bytes()); len(errs) > 0 {
		t.Fatalf("the document is not valid OSCAL 1.1.3:\n%s", strings.Join(errs, "\n"))
	}
	var doc map[string]any
	_ = json.Unmarshal(buf.Bytes(), &doc)
	res := doc["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)
	if len(res["observations"].([]any)) == 0 || len(res["findings"].([]any)) == 0 {
		t.Fatal("no observations or findings")
	}
	notSatisfied := 0
	for _, f := range res["findings"].([]any) {
		st := f.(map[string]any)["target"].(map[string]any)["status"].(map[string]any)["state"]
		if st == "not-satisfied" {
			notSatisfied++
		}
	}
	if notSatisfied == 0 {
		t.Error("the mixed plan fails controls, yet every finding is satisfied")
	}

	for name, edit := range map[string]func(string) string{
		"no title":   func(s string) string { return strings.Replace(s, `"title": "s3baseline plan plan.json",`, "", 1) },
		"bad uuid":   func(s string) string { return strings.Replace(s, `"uuid": "`, `"uuid": "x`, 1) },
		"open state": func(s string) string { return strings.Replace(s, `"state": "not-satisfied"`, `"state": "mostly"`, 1) },
		"unknown key": func(s string) string {
			return strings.Replace(s, `"oscal-version"`, `"oscal-flavour": "x", "oscal-version"`, 1)
		},
		"no start": func(s string) string { return strings.Replace(s, `"start": "2026-11-26T18:00:00Z",`, "", 1) },
		"naive time": func(s string) string {
			return strings.Replace(s, `"collected": "2026-11-26T18:00:00Z"`, `"collected": "2026-11-26T18:00:00"`, 1)
		},
		"empty methods": func(s string) string { return strings.Replace(s, `"TEST"`, ``, 1) },
	} {
		bad := edit(buf.String())
		if bad == buf.String() {
			t.Errorf("%s: the edit did not apply", name)
			continue
		}
		if errs := validateOSCAL(t, m, []byte(bad)); len(errs) == 0 {
			t.Errorf("%s: the validator accepted it", name)
		}
	}
	// Required children deep in the model: an observation's collected, a
	// finding's target, a result's reviewed-controls.
	for _, drop := range []struct{ list, key string }{{"observations", "collected"}, {"findings", "target"}, {"", "reviewed-controls"}} {
		var d map[string]any
		_ = json.Unmarshal(buf.Bytes(), &d)
		r := d["assessment-results"].(map[string]any)["results"].([]any)[0].(map[string]any)
		if drop.list == "" {
			delete(r, drop.key)
		} else {
			delete(r[drop.list].([]any)[0].(map[string]any), drop.key)
		}
		data, _ := json.Marshal(d)
		if errs := validateOSCAL(t, m, data); len(errs) == 0 {
			t.Errorf("without %s %s: the validator accepted it", drop.list, drop.key)
		}
	}
}
