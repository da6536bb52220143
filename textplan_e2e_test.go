package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
)

// TestTextPlanAtScale: the text plan of 300 generated buckets has the
// symbols' legend once at the top, no line over 200 characters (prose is
// wrapped, long values folded), and a per-control summary before the
// totals; --summary prints only that.
func TestTextPlanAtScale(t *testing.T) {
	srv := startWith(t, emulator.GenerateScenario(300, emulator.GenerateOptions{Seed: 7, DriftFraction: 0.3}), emulator.Options{})
	cfg := configFile(t, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\""+emulator.GeneratedAdminRole+"\"]\n")
	r := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL())
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 200 {
			t.Errorf("line %d has %d characters: %.120s…", i+1, n, l)
		}
	}
	if strings.Count(r.stdout, "Symbols: ") != 1 || !strings.HasPrefix(lines[1], "Symbols: + create, ~ update, - delete") {
		t.Errorf("the legend is not once at the top:\n%s", strings.Join(lines[:3], "\n"))
	}
	i := strings.Index(r.stdout, "\nPer control:\n")
	if i < 0 || !strings.Contains(r.stdout[i:], "tls_only:") || strings.Index(r.stdout, "\nPlan: ") < i {
		t.Errorf("no per-control summary before the totals")
	}
	s := runCLI(t, "plan", "--config", cfg, "--endpoint-url", srv.URL(), "--summary")
	if s.code != 0 || strings.Contains(s.stdout, "# bucket") || !strings.Contains(s.stdout, "Per control:") || !strings.Contains(s.stdout, "\nPlan: ") {
		t.Errorf("--summary (exit %d):\n%s", s.code, s.stdout)
	}
	if strings.Count(s.stdout, "\n") > 40 {
		t.Errorf("--summary has %d lines", strings.Count(s.stdout, "\n"))
	}
}
