package baselines

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadConfig checks that no config file makes LoadConfig panic, and
// that whatever it accepts is usable: every rule selects buckets and does
// something, every baseline it holds is a real one, and Assign works.
// Run it with: go test ./baselines/ -fuzz FuzzLoadConfig
func FuzzLoadConfig(f *testing.F) {
	f.Add(contractExample)
	f.Add("")
	f.Add("baseline: low\n")
	f.Add("baseline: pci.yaml\nbuckets:\n  - match: a-*\n    baseline: pci.yaml\n")
	f.Add("buckets:\n  - match_tags: {team: x}\n    exempt: [tls_only]\n    reason: r\n    until: 2020-01-01\n")
	f.Add("settings:\n  logging: &l {target_prefix: x/}\n  encryption: *l\n")
	f.Add("buckets: [{match: '[', baseline: high}, {match: 'a', exempt: [x]}]\n")
	f.Add("regions: [us-east-1]\nsettings: {admin_lock: {principals: ['123456789012']}}\n")
	f.Fuzz(func(t *testing.T, file string) {
		dir := t.TempDir()
		// A valid baseline file beside the config, so inputs can name one.
		if err := os.WriteFile(filepath.Join(dir, "pci.yaml"), []byte("name: pci\nextends: medium\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "s3baseline.yaml")
		if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(p)
		if err != nil {
			if c != nil {
				t.Fatalf("config and error: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		check := func(what string, b *Baseline) {
			if b != nil && (b.Name == "" || len(b.Controls) == 0) {
				t.Fatalf("%s: unusable baseline %+v", what, b)
			}
		}
		check("default", c.Baseline)
		for i, r := range c.Rules {
			if r.Match == "" && len(r.MatchTags) == 0 {
				t.Fatalf("rule %d selects every bucket", i)
			}
			if r.Baseline == nil && len(r.Exempt) == 0 {
				t.Fatalf("rule %d does nothing", i)
			}
			if len(r.Exempt) > 0 && r.Reason == "" {
				t.Fatalf("rule %d exempts without a reason", i)
			}
			check("rule", r.Baseline)
			c.Assign(r.Match, r.MatchTags, time.Now())
		}
	})
}
