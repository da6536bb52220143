// Package plan turns observed bucket state and a baseline into a plan: the
// document that `plan --json` prints, `plan --out` saves and `apply` carries
// out. The plan is data: the diff engine makes it from plain values with no
// I/O, the text renderer reads only the document, and one method decides
// whether there is anything to do.
package plan

import (
	"encoding/json"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// FormatVersion is the plan document version this build writes and reads.
const FormatVersion = 1

// Plan is the plan document (contract: "Plan document"). A plan of one
// account has that account's part inline (the embedded AccountPlan); a plan
// of an organization (--accounts) has one section per account in Accounts
// and the inline part empty, and Summary then totals the sections.
type Plan struct {
	FormatVersion int       `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	CreatedAt     time.Time `json:"created_at"`
	AccountPlan
	// Baseline is the default baseline of the scope; a bucket's own may
	// differ (BucketPlan.Baseline) when a config rule assigns another.
	Baseline BaselineRef `json:"baseline"`
	// Scope records what was asked for, so a saved plan says what it covers.
	Scope Scope `json:"scope"`
	// Accounts are the sections of an organization plan, by account id.
	Accounts []AccountPlan `json:"accounts,omitempty"`
	Summary  Summary       `json:"summary"`
	// Checksum is set in a plan file only: "sha256:" and the hex SHA-256 of
	// the compact JSON of the plan with Checksum and Signature empty. It lets a reader
	// refuse a plan edited after it was reviewed.
	Checksum string `json:"checksum,omitempty"`
	// Signature is set in a signed plan file only (plan --sign-key): an
	// HMAC of the checksum with a KMS key (see Sign). Checksum leaves it
	// out, as it leaves itself out.
	Signature *Signature `json:"signature,omitempty"`

	// Unmatched lists the scope filters and config rules that matched no
	// bucket when the plan was made (see UnmatchedLines). It is for the run
	// that made the plan and is not part of the document.
	Unmatched []Unmatched `json:"-"`
}

// AccountPlan is one account's part of the plan.
type AccountPlan struct {
	Account string `json:"account"`
	Caller  string `json:"caller"`
	// Name is the account's name in the organization (org plans only).
	Name    string       `json:"name,omitempty"`
	Buckets []BucketPlan `json:"buckets"`
	// Kept holds the buckets instead of Buckets in a plan Build streamed
	// to a sink: they were written as they were made, and what is left of
	// each is read with EachBucket.
	Kept           *Kept     `json:"-"`
	AccountChanges []Change  `json:"account_changes"`
	Findings       []Finding `json:"findings"`
	// Warnings are the account's: a change held back and why.
	Warnings []string `json:"account_warnings,omitempty"`
	// Errors are the account's: a control that could not be judged, or
	// (org plans) an account that could not be entered at all.
	Errors []string `json:"account_errors,omitempty"`
	// AccountPublicAccessBlock is the account-level Block Public Access
	// the bucket changes were judged with (null: not configured), and
	// AccountPublicAccessBlockError why it could not be read: apply plans
	// each bucket again and must know whether this input changed since.
	AccountPublicAccessBlock      *settings.PublicAccessBlock `json:"account_public_access_block"`
	AccountPublicAccessBlockError string                      `json:"account_public_access_block_error,omitempty"`
	// Summary counts this account; in a one-account plan the top-level
	// summary is the same and this one is not written.
	Summary Summary `json:"summary"`
}

// EachBucket yields the section's buckets in plan order: Buckets, or what a
// streamed plan kept of them (Kept, Slim buckets). The bucket yielded is
// valid until the loop's next turn: copy what must outlast it.
func (a *AccountPlan) EachBucket() iter.Seq[*BucketPlan] {
	if a.Kept != nil {
		return a.Kept.each(0, a.Kept.Len())
	}
	return eachBucket(a.Buckets)
}

// BucketCount is the number of buckets EachBucket yields.
func (a *AccountPlan) BucketCount() int {
	if a.Kept != nil {
		return a.Kept.Len()
	}
	return len(a.Buckets)
}

// Organization makes one plan of several accounts' plans: the header,
// baseline and scope of the first (the accounts were planned with the same
// configuration), one section per account in the order given, and the
// total summary. Sections without a plan (an account that could not be
// entered) are given as AccountPlans with Errors.
func Organization(parts []*Plan, failed []AccountPlan, scope Scope) *Plan {
	out := &Plan{FormatVersion: FormatVersion}
	for _, p := range parts {
		if out.ToolVersion == "" {
			out.ToolVersion, out.CreatedAt, out.Baseline = p.ToolVersion, p.CreatedAt, p.Baseline
		}
		out.Accounts = append(out.Accounts, p.AccountPlan)
	}
	for _, f := range failed {
		f.Buckets = nonNilBuckets(f.Buckets)
		f.AccountChanges = nonNilChanges(f.AccountChanges)
		if f.Findings == nil {
			f.Findings = []Finding{}
		}
		out.Accounts = append(out.Accounts, f)
	}
	slices.SortStableFunc(out.Accounts, func(a, b AccountPlan) int { return strings.Compare(a.Account, b.Account) })
	out.Scope = scope
	out.Buckets, out.AccountChanges, out.Findings = []BucketPlan{}, []Change{}, []Finding{}
	out.Summary = Summarize(out)
	out.Unmatched = intersectUnmatched(parts)
	return out
}

func nonNilBuckets(b []BucketPlan) []BucketPlan {
	if b == nil {
		return []BucketPlan{}
	}
	return b
}

// Sections are the plan's account parts: the inline one for a one-account
// plan, the Accounts otherwise. They point into p.
func (p *Plan) Sections() []*AccountPlan {
	if len(p.Accounts) == 0 {
		return []*AccountPlan{&p.AccountPlan}
	}
	out := make([]*AccountPlan, len(p.Accounts))
	for i := range p.Accounts {
		out[i] = &p.Accounts[i]
	}
	return out
}

// Section is the one-account plan of section i: the header, baseline and
// scope of p with that account's part inline. apply runs an organization
// plan one section at a time with the account's own credentials.
func (p *Plan) Section(i int) *Plan {
	if len(p.Accounts) == 0 {
		return p
	}
	out := *p
	out.AccountPlan = p.Accounts[i]
	out.Accounts = nil
	out.Checksum, out.Signature = "", nil
	out.Summary = out.AccountPlan.Summary
	return &out
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
	// Accounts is the --accounts selection of an organization plan ("all"
	// or ids), RoleName the role assumed in each account, Shard the
	// --shard the run covered ("" for all).
	Accounts []string `json:"accounts,omitempty"`
	RoleName string   `json:"role_name,omitempty"`
	Shard    string   `json:"shard,omitempty"`
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
	// AspectDigests pins each observed aspect alone (StateDigest of that
	// aspect), so apply can tell which aspects changed since the plan and
	// hold back only the controls judged from them (Change.Depends).
	AspectDigests map[settings.Aspect]string `json:"aspect_digests,omitempty"`
	// Changes holds one change per checked control, no-ops included, in
	// settings.BucketControls order.
	Changes   []Change    `json:"changes"`
	Exempt    []Exemption `json:"exempt"`
	Warnings  []string    `json:"warnings"`
	Errors    []string    `json:"errors"`
	Preserved *Preserved  `json:"preserved,omitempty"`
	// Findings are the bucket's report-mode controls that it fails; they
	// are never written.
	Findings []Finding `json:"findings,omitempty"`
	// Directory marks a directory bucket (S3 Express One Zone): judged
	// only on what applies to it, never written.
	Directory bool `json:"directory,omitempty"`
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
	// HeldBack says why apply will not make the change at all, whatever
	// the flags: it would lock the tool out, S3 would refuse it, or what it
	// would cut off could not be told. The bucket's other changes are
	// still made.
	HeldBack string `json:"held_back,omitempty"`
	// Depends lists the aspects the change was judged from, its impact
	// included: apply holds the change back as stale when one of them
	// changed since the plan.
	Depends []settings.Aspect `json:"depends,omitempty"`
}

// Applicable reports whether apply may make the change: it is not a no-op,
// not held back, and has no impact unless allowImpact.
func (c Change) Applicable(allowImpact bool) bool {
	return c.Action != NoOp && c.HeldBack == "" && (len(c.Impact) == 0 || allowImpact)
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
	NIST    []string           `json:"nist,omitempty"`
	// Muted is set when a config rule mutes the finding: it stays in the
	// plan, with the rule's reason and until, but does not count.
	Muted *Exemption `json:"muted,omitempty"`
}

// unmuted counts the findings no rule mutes.
func unmuted(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Muted == nil {
			n++
		}
	}
	return n
}

// mute marks the findings of the muted controls, and says which mutes
// have lapsed.
func mute(fs []Finding, muted, lapsed []baselines.Exemption) (warnings []string) {
	for i := range fs {
		for _, m := range muted {
			if m.Control == fs[i].Control {
				e := Exemption(m)
				fs[i].Muted = &e
			}
		}
	}
	for _, l := range lapsed {
		msg := "mute of " + string(l.Control) + " lapsed on " + l.Until
		if l.Reason != "" {
			msg += " (" + l.Reason + ")"
		}
		warnings = append(warnings, msg+": its findings count again")
	}
	return warnings
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
	// Errors is the number of error lines, of buckets and accounts.
	Errors int `json:"errors"`
	// Findings counts the report-mode findings, of buckets and accounts.
	Findings int `json:"findings"`
}

// Empty reports whether the plan has nothing to do: every change, of every
// bucket and of the account, is a no-op. It is the one place that decides
// this; `plan --detailed-exitcode` and `apply` both ask it.
func (p *Plan) Empty() bool {
	for _, a := range p.Sections() {
		for b := range a.EachBucket() {
			if b.pending() > 0 {
				return false
			}
		}
		if pending(a.AccountChanges) > 0 {
			return false
		}
	}
	return true
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

// Summarize computes the summary from the plan's buckets and changes, of
// every section; it is the only place the counts are made.
func Summarize(p *Plan) Summary {
	var s Summary
	for _, a := range p.Sections() {
		a.Summary = summarizeAccount(a)
		s.Buckets += a.Summary.Buckets
		s.Compliant += a.Summary.Compliant
		s.ToChange += a.Summary.ToChange
		s.Changes += a.Summary.Changes
		s.Errors += a.Summary.Errors
		s.Findings += a.Summary.Findings
	}
	return s
}

func summarizeAccount(a *AccountPlan) Summary {
	s := Summary{Buckets: a.BucketCount(), Changes: pending(a.AccountChanges), Errors: len(a.Errors), Findings: unmuted(a.Findings)}
	for b := range a.EachBucket() {
		n := b.pending()
		s.Changes += n
		if n > 0 {
			s.ToChange++
		}
		if b.Compliant() {
			s.Compliant++
		}
		s.Errors += len(b.Errors)
		s.Findings += unmuted(b.Findings)
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
	for _, a := range p.Sections() {
		for b := range a.EachBucket() {
			add(b.Changes)
		}
		add(a.AccountChanges)
	}
	return m
}
