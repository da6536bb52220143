package baselines

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/s3baseline/s3baseline/settings"
)

// ruleJSON is a rule in a plan document: the file's keys, the baseline
// inlined (the plan must not depend on a baseline file that may change
// between plan and apply), and until as YYYY-MM-DD rather than a timestamp.
type ruleJSON struct {
	Match     string               `json:"match,omitempty"`
	MatchTags map[string]string    `json:"match_tags,omitempty"`
	Accounts  []string             `json:"accounts,omitempty"`
	Regions   []string             `json:"regions,omitempty"`
	Baseline  *Baseline            `json:"baseline,omitempty"`
	Exempt    []settings.ControlID `json:"exempt,omitempty"`
	Mute      []settings.ControlID `json:"mute,omitempty"`
	Settings  *Settings            `json:"settings,omitempty"`
	Reason    string               `json:"reason,omitempty"`
	Until     string               `json:"until,omitempty"`
	Line      int                  `json:"line,omitempty"`
}

// MarshalJSON writes a rule the way the config file spells it, so that
// json.Marshal(config) and json.Unmarshal round-trip a whole Config.
func (r Rule) MarshalJSON() ([]byte, error) {
	doc := ruleJSON{Match: r.Match, MatchTags: r.MatchTags, Accounts: r.Accounts, Regions: r.Regions, Baseline: r.Baseline,
		Exempt: r.Exempt, Mute: r.Mute, Settings: r.Settings, Reason: r.Reason, Line: r.Line}
	if !r.Until.IsZero() {
		doc.Until = r.Until.Format(dateLayout)
	}
	return json.Marshal(doc)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Rule) UnmarshalJSON(data []byte) error {
	var doc ruleJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	*r = Rule{Match: doc.Match, MatchTags: doc.MatchTags, Accounts: doc.Accounts, Regions: doc.Regions, Baseline: doc.Baseline,
		Exempt: doc.Exempt, Mute: doc.Mute, Settings: doc.Settings, Reason: doc.Reason, Line: doc.Line}
	if doc.Until != "" {
		t, err := time.Parse(dateLayout, doc.Until)
		if err != nil {
			return fmt.Errorf("rule until %q: want YYYY-MM-DD", doc.Until)
		}
		r.Until = t
	}
	return nil
}
