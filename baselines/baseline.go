package baselines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/s3baseline/s3baseline/settings"
)

// Clone returns a deep copy of b.
func (b *Baseline) Clone() *Baseline {
	if b == nil {
		return nil
	}
	c := *b
	c.Controls = make([]ControlSpec, len(b.Controls))
	for i, s := range b.Controls {
		s.NIST = slices.Clone(s.NIST)
		c.Controls[i] = s
	}
	return &c
}

// Spec returns the baseline's spec of control id. A nil baseline has no
// controls.
func (b *Baseline) Spec(id settings.ControlID) (ControlSpec, bool) {
	if b == nil {
		return ControlSpec{}, false
	}
	for _, c := range b.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return ControlSpec{}, false
}

// Has reports whether the baseline includes control id in any mode.
func (b *Baseline) Has(id settings.ControlID) bool {
	_, ok := b.Spec(id)
	return ok
}

// Enforced reports whether the baseline includes control id in enforce
// mode, i.e. whether the plan may write it.
func (b *Baseline) Enforced(id settings.ControlID) bool {
	c, ok := b.Spec(id)
	return ok && c.Mode == ModeEnforce
}

// AllowsPublicAccess reports whether buckets under this baseline may be
// public: block_public_access is not enforced. While any in-scope bucket's
// baseline allows it, account-level Block Public Access is held back.
func (b *Baseline) AllowsPublicAccess() bool {
	return !b.Enforced(settings.BlockPublicAccess)
}

// Digest identifies the baseline's content: "sha256:" and the hex SHA-256
// of its canonical JSON (name, description, encryption level, controls in
// plan order with mode, NIST and sentence). Source is left out on purpose:
// the same file read from another directory is the same baseline, and an
// edited file under the same path is not.
func (b *Baseline) Digest() string {
	if b == nil {
		return ""
	}
	c := b.Clone()
	slices.SortStableFunc(c.Controls, func(x, y ControlSpec) int { return planOrder(x.ID) - planOrder(y.ID) })
	doc := struct {
		Name        string        `json:"name"`
		Description string        `json:"description"`
		Encryption  string        `json:"encryption"`
		Insights    bool          `json:"cloudtrail_insights,omitempty"`
		Controls    []ControlSpec `json:"controls"`
	}{c.Name, c.Description, c.Encryption, c.CloudTrailInsights, c.Controls}
	data, err := json.Marshal(doc)
	if err != nil {
		// Strings and slices of strings always marshal.
		panic("baselines: marshal baseline: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
