package plan

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

// TestVerifyRefusesEdits: each edit a forger would make to a saved plan is
// refused by the document check alone, whatever its checksum says.
func TestVerifyRefusesEdits(t *testing.T) {
	f, o := mixedScenario(t)
	fresh := func() *Plan {
		p, err := Build(context.Background(), f, o)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := Verify(fresh()); err != nil {
		t.Fatalf("the tool's own plan is refused: %v", err)
	}
	edit := func(p *Plan, id settings.ControlID, fn func(c *Change)) bool {
		for i := range p.Buckets {
			for j := range p.Buckets[i].Changes {
				if c := &p.Buckets[i].Changes[j]; c.Control == id && c.Action != NoOp {
					fn(c)
					return true
				}
			}
		}
		return false
	}
	for name, tc := range map[string]struct {
		edit func(p *Plan) bool
		want string
	}{
		"BPA flag off": {func(p *Plan) bool {
			return edit(p, settings.BlockPublicAccess, func(c *Change) {
				c.After = json.RawMessage(`{"block_public_acls":false,"ignore_public_acls":true,"block_public_policy":true,"restrict_public_buckets":true}`)
			})
		}, "leaves a Block Public Access flag off"},
		"foreign statement under our Sid": {func(p *Plan) bool {
			return edit(p, settings.TLSOnly, func(c *Change) {
				c.After = json.RawMessage(`{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`)
			})
		}, "not the tool's statement"},
		"bucket added out of scope": {func(p *Plan) bool {
			p.Scope.Buckets = []string{p.Buckets[0].Name}
			return len(p.Buckets) > 1
		}, "not in the plan's scope"},
		"bucket listed twice": {func(p *Plan) bool {
			p.Buckets = append(p.Buckets, p.Buckets[0])
			p.Summary = Summarize(p)
			return true
		}, "listed twice"},
	} {
		t.Run(name, func(t *testing.T) {
			p := fresh()
			if !tc.edit(p) {
				t.Skip("the scenario has no such change")
			}
			err := Verify(p)
			var fe *ForgeryError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify: %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
}
