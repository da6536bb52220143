package report

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestREADMEDocumentsTheReport: the README's example report is a report
// (decoded strictly: it names no field the report lacks), and it shows every
// field the report has, so the documentation cannot drift from the format.
func TestREADMEDocumentsTheReport(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "<!-- report-example -->\n```json\n")
	if !ok {
		t.Fatal("README.md has no report example (<!-- report-example --> and a json block)")
	}
	example, _, ok := strings.Cut(after, "\n```")
	if !ok {
		t.Fatal("the README's report example is not closed")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(example)))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the README's report example is not a report: %v", err)
	}
	if r.ReportVersion != Version {
		t.Errorf("the README shows report_version %d, the format is %d", r.ReportVersion, Version)
	}
	for _, key := range jsonKeys(reflect.TypeOf(Report{}), nil) {
		if !strings.Contains(example, `"`+key+`"`) {
			t.Errorf("the README's report example does not show the field %q", key)
		}
	}
}

// jsonKeys lists the JSON field names of t and of the structs it holds.
func jsonKeys(t reflect.Type, seen map[reflect.Type]bool) []string {
	if seen == nil {
		seen = map[reflect.Type]bool{}
	}
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" {
		return nil
	}
	seen[t] = true
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, jsonKeys(f.Type, seen)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
		out = append(out, jsonKeys(f.Type, seen)...)
	}
	return out
}
