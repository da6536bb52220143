package baselines

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/settings"
)

// hubControl is one entry of data/securityhub-s3.yaml.
type hubControl struct {
	ID    string   `yaml:"id"`
	Title string   `yaml:"title"`
	NIST  []string `yaml:"nist"`
	CIS   []string `yaml:"cis"`
}

func securityHubS3(t *testing.T) map[string]hubControl {
	t.Helper()
	data, err := builtinFiles.ReadFile("data/securityhub-s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Controls []hubControl `yaml:"controls"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]hubControl{}
	for _, c := range doc.Controls {
		out[c.ID] = c
	}
	return out
}

// TestCatalogue holds the catalogue to its sources: every control has a
// NIST mapping and says where it comes from; a mapping taken from Security
// Hub is exactly that control's related requirements; every Security Hub
// S3 control is covered by a control or listed as not applicable with the
// reason; and the CIS recommendations are those Security Hub relates.
func TestCatalogue(t *testing.T) {
	hub := securityHubS3(t)
	if len(hub) < 20 {
		t.Fatalf("data/securityhub-s3.yaml has %d controls; the S3 page lists 21", len(hub))
	}
	covered := map[string]bool{}
	var ids []settings.ControlID
	for _, c := range Catalog() {
		ids = append(ids, c.ID)
		if len(c.NIST) == 0 || c.NISTSource == "" {
			t.Errorf("%s: NIST %v from %q: every control needs a mapping and its source", c.ID, c.NIST, c.NISTSource)
		}
		if c.Compliant == "" || c.Fix == "" || (c.Scope != "bucket" && c.Scope != "account") {
			t.Errorf("%s: compliant %q, fix %q, scope %q", c.ID, c.Compliant, c.Fix, c.Scope)
		}
		if want := settings.IsBucketControl(c.ID); want != (c.Scope == "bucket") {
			t.Errorf("%s: scope %q, but settings.IsBucketControl is %v", c.ID, c.Scope, want)
		}
		var cis []string
		for _, id := range c.SecurityHub {
			h, ok := hub[id]
			if !ok {
				t.Errorf("%s names Security Hub %s, which is not on the S3 page", c.ID, id)
				continue
			}
			covered[id] = true
			cis = append(cis, h.CIS...)
		}
		for _, r := range c.CIS {
			if !slices.Contains(cis, r) {
				t.Errorf("%s: CIS %s is not among the recommendations of its Security Hub controls %v", c.ID, r, c.SecurityHub)
			}
		}
		if from, ok := strings.CutPrefix(c.NISTSource, sourceHub); ok {
			h := hub[from]
			if !slices.Contains(c.SecurityHub, from) {
				t.Errorf("%s: NIST from %s, which it does not cover", c.ID, from)
			}
			if diff := cmp.Diff(sortedCopy(h.NIST), sortedCopy(c.NIST)); diff != "" {
				t.Errorf("%s: NIST is not %s's related requirements (-hub +catalogue):\n%s", c.ID, from, diff)
			}
		} else if !strings.HasPrefix(c.NISTSource, sourceGuide) && !strings.HasPrefix(c.NISTSource, sourceOwn+", ") {
			t.Errorf("%s: NIST source %q is neither Security Hub, the source guide nor a reason of s3baseline's", c.ID, c.NISTSource)
		}
	}
	na := NotApplicable()
	for id := range hub {
		switch reason, listed := na[id]; {
		case covered[id] && listed:
			t.Errorf("Security Hub %s is covered and also listed as not applicable", id)
		case !covered[id] && !listed:
			t.Errorf("Security Hub %s (%s) is neither covered by a control nor listed as not applicable", id, hub[id].Title)
		case listed && len(reason) < 40:
			t.Errorf("Security Hub %s: not applicable needs a real reason, got %q", id, reason)
		}
	}
	for id := range na {
		if _, ok := hub[id]; !ok {
			t.Errorf("NotApplicable lists %s, which is not on the S3 page", id)
		}
	}
	want := append(slices.Clone(settings.BucketControls), settings.AccountControls...)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("catalogue order is not settings' plan order (-settings +catalogue):\n%s", diff)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
