// Package plan turns observed bucket state and a baseline into a plan: the
// document that `plan --json` prints, `plan --out` saves and `apply` carries
// out. The plan is data: the diff engine makes it from plain values with no
// I/O, the text renderer reads only the document, and one method decides
// whether there is anything to do.
package plan

import (
	"encoding/json"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// FormatVersion is the plan document version this build writes and reads.
const FormatVersion = 1

// Plan is the plan document (contract: "Plan document").
type Plan struct {
	FormatVersion int       `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	CreatedAt     time.Time `json:"created_at"`
	Account       string    `json:"account"`
	Caller        string    `json:"caller"`
	// Baseline is the default baseline of the scope; a bucket's own may
	// differ (BucketPlan.Baseline) when a config rule assigns another.
	Baseline BaselineRef `json:"baseline"`
	// Scope records what was asked for, so a saved plan says what it covers.
	Scope          Scope        `json:"scope"`
	Buckets        []BucketPlan `json:"buckets"`
	AccountChanges []Change     `json:"account_changes"`
	Findings       []Finding    `json:"findings"`
	Summary        Summary      `json:"summary"`
	// Checksum is set in a plan file only: "sha256:" and the hex SHA-256 of
	// the compact JSON of the plan with Checksum empty. It lets a reader
	// refuse a plan edited after it was reviewed.
	Checksum string `json:"checksum,omitempty"`
}

// BaselineRef names a baseline and pins its content.
type BaselineRef struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Scope is what the plan was asked to cover.
type Scope struct {
	// Config is the config file's path; empty for the built-in defaults.
	Config string `json:"config,omitempty"`
	// Buckets are the --bucket globs; empty is every bucket.
	Buckets []string `json:"buckets,omitempty"`
	// Regions are the --region filters; empty is every region.
	Regions []string `json:"regions,omitempty"`
	// ConfigRegions is the config file's regions filter.
	ConfigRegions []string `json:"config_regions,omitempty"`
	// Settings is the whole configuration the plan was made with (default
	// baseline, settings, rules), so that apply and rollback of a saved plan
	// need no --config and cannot pick up a config edited since.
	Settings *baselines.Config `json:"settings,omitempty"`
}

// BucketPlan is one bucket's part of the plan.
type BucketPlan struct {
	Name     string `json:"name"`
	Region   string `json:"region"`
	Baseline string `json:"baseline"`
	// StateDigest pins the observed security state the changes were
	// computed from; apply re-observes the same aspects and skips the
	// bucket as stale when the digest differs (see StateDigest).
	StateDigest string `json:"state_digest"`
	// Observed lists the aspects that were read, the set apply re-observes
	// to recompute StateDigest.
	Observed []settings.Aspect `json:"observed"`
	// Changes holds one change per checked control, no-ops included, in
	// settings.BucketControls order.
	Changes   []Change    `json:"changes"`
	Exempt    []Exemption `json:"exempt"`
	Warnings  []string    `json:"warnings"`
	Errors    []string    `json:"errors"`
	Preserved *Preserved  `json:"preserved,omitempty"`
}

// Change is one control's change. Before and After are the control's own
// settings as JSON, null where absent:
//
//   - block_public_access, object_ownership, default_encryption,
//     access_logging: settings.PublicAccessBlock, settings.Ownership,
//     settings.Encryption, settings.Logging.
//   - tls_only, admin_policy_lock: the policy statement with the owned Sid
//     (Before is its verbatim JSON, compacted).
//   - event_notifications: the settings.NotificationEntry with our Id.
//
// For NoOp, Before and After are both the current setting. Reason is for
// people; apply must not decide anything from it.
type Change struct {
	Control settings.ControlID `json:"control"`
	Action  Action             `json:"action"`
	Before  json.RawMessage    `json:"before"`
	After   json.RawMessage    `json:"after"`
	NIST    []string           `json:"nist"`
	Reason  string             `json:"reason"`
	// Impact lists what the change would break for people using the bucket
	// today (a public website, public or cross-account readers, a
	// CloudFormation stack). apply holds such a change back unless the
	// operator passes --allow-impact.
	Impact []string `json:"impact,omitempty"`
}

// Exemption is a control a config rule exempts for one bucket.
type Exemption struct {
	Control settings.ControlID `json:"control"`
	Reason  string             `json:"reason"`
	// Until is YYYY-MM-DD, or empty for no end.
	Until string `json:"until,omitempty"`
}

// Preserved names what of other people's configuration a planned write will
// keep. It is filled only for a bucket with a policy change planned
// (PolicyStatements) or a notification change planned (Notifications):
// those are the writes that replace a whole document, so that is when an
// operator needs to see that nothing else is lost.
type Preserved struct {
	PolicyStatements []string `json:"policy_statements,omitempty"`
	Notifications    []string `json:"notifications,omitempty"`
}

// Finding is a report-only observation (iam_mfa, shield, ...).
type Finding struct {
	Control settings.ControlID `json:"control"`
	Subject string             `json:"subject"`
	Detail  string             `json:"detail"`
}

// Summary counts the plan; Summarize computes it.
type Summary struct {
	// Buckets in scope.
	Buckets int `json:"buckets"`
	// Compliant buckets have no change but no-ops and no error.
	Compliant int `json:"compliant"`
	// ToChange buckets have at least one change that is not a no-op.
	ToChange int `json:"to_change"`
	// Changes that are not no-ops, bucket and account changes together.
	Changes int `json:"changes"`
	// Errors is the number of bucket error lines.
	Errors int `json:"errors"`
}

// Empty reports whether the plan has nothing to do: every change, of every
// bucket and of the account, is a no-op. It is the one place that decides
// this; `plan --detailed-exitcode` and `apply` both ask it.
func (p *Plan) Empty() bool {
	for _, b := range p.Buckets {
		if b.pending() > 0 {
			return false
		}
	}
	return pending(p.AccountChanges) == 0
}

// Compliant reports whether the bucket has nothing to change and no error.
func (b *BucketPlan) Compliant() bool {
	return b.pending() == 0 && len(b.Errors) == 0
}

func (b *BucketPlan) pending() int { return pending(b.Changes) }

// pending counts the changes that are not no-ops.
func pending(changes []Change) int {
	n := 0
	for _, c := range changes {
		if c.Action != NoOp {
			n++
		}
	}
	return n
}

// Summarize computes the summary from the plan's buckets and changes; it is
// the only place the counts are made.
func Summarize(p *Plan) Summary {
	s := Summary{Buckets: len(p.Buckets), Changes: pending(p.AccountChanges)}
	for i := range p.Buckets {
		b := &p.Buckets[i]
		n := b.pending()
		s.Changes += n
		if n > 0 {
			s.ToChange++
		}
		if b.Compliant() {
			s.Compliant++
		}
		s.Errors += len(b.Errors)
	}
	return s
}

// ActionCounts counts the changes that are not no-ops by action, bucket and
// account changes together.
func ActionCounts(p *Plan) map[Action]int {
	m := map[Action]int{}
	add := func(cs []Change) {
		for _, c := range cs {
			if c.Action != NoOp {
				m[c.Action]++
			}
		}
	}
	for _, b := range p.Buckets {
		add(b.Changes)
	}
	add(p.AccountChanges)
	return m
}
