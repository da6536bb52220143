package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// A plan file is reviewed in one place and applied in another, so apply
// must not trust it: a checksum anyone can recompute proves nothing. Two
// checks make a plan's changes the tool's own:
//
//   - Verify reads the document alone, before any AWS call (show and
//     apply): every change must be one the tool could have planned from its
//     recorded before-state and the plan's own config. An owned Sid holds
//     exactly the tool's statement, Block Public Access only ever turns
//     flags on, encryption never goes down a layer, and so on.
//   - Rederive and Mismatches, at apply, plan each bucket again from the
//     state apply has just observed. Where that state is the plan's (the
//     aspect digests agree), the plan's change must be exactly the one the
//     tool plans; where it is not, the change is stale. Either way a change
//     that is not the tool's own is never written.

// ForgeryError lists what makes a plan not one this tool made. apply and
// show refuse such a plan whole.
type ForgeryError struct {
	// Source names the plan (its file).
	Source   string
	Problems []string
}

func (e *ForgeryError) Error() string {
	head := "the plan is not what s3baseline would plan"
	if e.Source != "" {
		head = e.Source + ": " + head
	}
	return head + " (edited, or made by another version); refused, nothing was written: " +
		strings.Join(e.Problems, "; ") + "; run plan again"
}

// Verify checks the plan document on its own (see above) and returns a
// *ForgeryError naming each bucket and control that is not the tool's, or
// nil. It needs the plan's settings: a saved plan always carries them.
func Verify(p *Plan) error {
	v := newVerifier(p)
	for _, a := range p.Sections() {
		for i := range a.Buckets {
			v.bucket(a, &a.Buckets[i])
		}
	}
	return v.finish(p)
}

// verifier is Verify in parts, so that a plan read as a stream can have
// each bucket checked as it is read (bucket) and the rest at the end
// (finish).
type verifier struct {
	cfg   *baselines.Config
	scope Scope
	known map[string]*baselines.Baseline
	seen  map[string]bool
	probs []string
}

func newVerifier(p *Plan) *verifier {
	v := &verifier{scope: p.Scope, seen: map[string]bool{}}
	cfg := p.Scope.Settings
	if cfg == nil || cfg.Baseline == nil {
		v.addf("the plan carries no settings (scope.settings)")
		return v
	}
	v.cfg = cfg
	if p.Baseline.Name != cfg.Baseline.Name || p.Baseline.Digest != cfg.Baseline.Digest() {
		v.addf("baseline %s (%s) is not the baseline of the plan's settings (%s, %s)", p.Baseline.Name, p.Baseline.Digest, cfg.Baseline.Name, cfg.Baseline.Digest())
	}
	// A custom baseline cannot take a built-in's name (baselines refuses it).
	if b, ok := baselines.Builtin(cfg.Baseline.Name); ok && b.Digest() != cfg.Baseline.Digest() {
		v.addf("baseline %s differs from the built-in baseline of that name", cfg.Baseline.Name)
	}
	v.known = map[string]*baselines.Baseline{cfg.Baseline.Name: cfg.Baseline}
	for _, r := range cfg.Rules {
		if r.Baseline != nil {
			v.known[r.Baseline.Name] = r.Baseline
		}
	}
	return v
}

func (v *verifier) addf(format string, args ...any) {
	v.probs = append(v.probs, fmt.Sprintf(format, args...))
}

// bucket checks one bucket of account a, whole (not Slim).
func (v *verifier) bucket(a *AccountPlan, b *BucketPlan) {
	if v.cfg == nil {
		return
	}
	at := fmt.Sprintf("account %s bucket %q", a.Account, b.Name)
	if key := a.Account + "/" + b.Name; v.seen[key] {
		v.addf("%s: listed twice", at)
	} else {
		v.seen[key] = true
	}
	if why := outOfScope(v.scope, v.cfg, b.Name, b.Region); why != "" {
		v.addf("%s: not in the plan's scope (%s)", at, why)
	}
	bl, ok := v.known[b.Baseline]
	if !ok {
		v.addf("%s: baseline %q is not one the plan's settings assign", at, b.Baseline)
		return
	}
	controls := map[settings.ControlID]bool{}
	for _, c := range b.Changes {
		if controls[c.Control] {
			v.addf("%s %s: two changes of one control", at, c.Control)
		}
		controls[c.Control] = true
		if !bl.Enforced(c.Control) {
			v.addf("%s %s: baseline %s does not enforce this control", at, c.Control, bl.Name)
			continue
		}
		if why := checkChange(v.cfg, settings.AccountState{AccountID: a.Account, Caller: a.Caller}, b, c); why != "" {
			v.addf("%s %s: %s", at, c.Control, why)
		}
	}
}

// finish checks what is not of one bucket (the account changes and the
// summaries, which Slim buckets count as whole ones do) and says whether
// anything was found.
func (v *verifier) finish(p *Plan) error {
	if v.cfg != nil {
		for _, a := range p.Sections() {
			for _, c := range a.AccountChanges {
				if why := checkAccountChange(c); why != "" {
					v.addf("account %s %s: %s", a.Account, c.Control, why)
				}
			}
			if got := summarizeAccount(a); len(p.Accounts) > 0 && got != a.Summary {
				v.addf("account %s: the summary does not count the plan's buckets", a.Account)
			}
		}
		if got := Summarize(clonePlan(p)); got != p.Summary {
			v.addf("the summary does not count the plan's buckets and changes")
		}
	}
	if len(v.probs) > 0 {
		return &ForgeryError{Problems: v.probs}
	}
	return nil
}

// clonePlan copies the plan's sections so that Summarize, which writes each
// section's summary, leaves p alone.
func clonePlan(p *Plan) *Plan {
	c := *p
	c.Accounts = slices.Clone(p.Accounts)
	return &c
}

// outOfScope is why a bucket could not have been planned under the plan's
// scope (--bucket, --region, the config's regions), "" when it could.
func outOfScope(s Scope, cfg *baselines.Config, name, region string) string {
	if len(s.Buckets) > 0 && !slices.ContainsFunc(s.Buckets, func(g string) bool { ok, _ := path.Match(g, name); return ok }) {
		return "no --bucket " + strings.Join(s.Buckets, ", ") + " matches it"
	}
	if len(s.Regions) > 0 && !slices.Contains(s.Regions, region) {
		return "region " + region + " is not among --region " + strings.Join(s.Regions, ", ")
	}
	if !cfg.InRegion(region) {
		return "region " + region + " is not among the config's regions"
	}
	return ""
}

// checkChange is what makes one bucket change impossible for the tool to
// have planned, judged from its own before and after and the config.
func checkChange(cfg *baselines.Config, acct settings.AccountState, b *BucketPlan, c Change) string {
	if c.Action == NoOp {
		if !sameJSON(c.Before, c.After) {
			return "a no-op whose after differs from its before"
		}
		return ""
	}
	if sameJSON(c.Before, c.After) {
		return fmt.Sprintf("a %s whose after is its before", c.Action)
	}
	if c.Action == Delete {
		return "the tool never deletes a setting"
	}
	d := DesiredFor(cfg.ForAccount(acct.AccountID), acct, settings.BucketRef{Name: b.Name, Region: b.Region}, settings.KeyInfo{}, nil)
	switch c.Control {
	case settings.BlockPublicAccess:
		var before *settings.PublicAccessBlock
		var after settings.PublicAccessBlock
		if err := decodeSetting(c.Before, &before); err != nil {
			return err.Error()
		}
		if err := decodeStrict(c.After, &after); err != nil {
			return err.Error()
		}
		if !after.AllOn() {
			return "its after leaves a Block Public Access flag off"
		}
	case settings.ObjectOwnership:
		var after settings.Ownership
		if err := decodeStrict(c.After, &after); err != nil {
			return err.Error()
		}
		if after.Rule != settings.OwnershipBucketOwnerEnforced {
			return "its after is " + after.Rule + ", not BucketOwnerEnforced"
		}
	case settings.TLSOnly:
		if !sameJSON(c.After, TLSStatement(d.Partition, b.Name)) {
			return "its after is not the tool's statement " + settings.SidDenyInsecureTransport + " for this bucket"
		}
	case settings.AdminPolicyLock:
		if !sameJSON(c.After, AdminLockStatement(b.Name, d.AdminLock)) {
			return "its after is not the tool's statement " + settings.SidDenyAdminPolicyChanges + " for this bucket and the configured principals"
		}
	case settings.DefaultEncryption, settings.BlockSSEC:
		var before, after *settings.Encryption
		if err := decodeSetting(c.Before, &before); err != nil {
			return err.Error()
		}
		if err := decodeSetting(c.After, &after); err != nil {
			return err.Error()
		}
		if after == nil {
			return "its after removes default encryption"
		}
		if encryptionLayer(after) < encryptionLayer(before) {
			return "its after is weaker encryption than its before"
		}
		if before.SSECBlocked() && !after.SSECBlocked() {
			return "its after lifts the SSE-C block"
		}
		if c.Control == settings.BlockSSEC && !after.SSECBlocked() {
			return "its after does not block SSE-C"
		}
	case settings.AccessLogging:
		var after *settings.Logging
		if err := decodeSetting(c.After, &after); err != nil {
			return err.Error()
		}
		if after == nil || after.TargetBucket != d.LogTarget {
			return "its after does not log to the configured target " + quoteOrNone(d.LogTarget)
		}
	case settings.EventNotifications:
		var after settings.NotificationEntry
		if err := decodeStrict(c.After, &after); err != nil {
			return err.Error()
		}
		if after.ID != settings.NotificationID || after.ARN != d.TopicARN {
			return "its after is not the tool's entry " + settings.NotificationID + " to " + quoteOrNone(d.TopicARN)
		}
	case settings.Versioning:
		var after settings.VersioningConfig
		if err := decodeStrict(c.After, &after); err != nil {
			return err.Error()
		}
		if after.Status != settings.VersioningEnabled {
			return "its after is versioning " + quoteOrNone(after.Status) + ", not Enabled"
		}
	default:
		return "not a bucket control"
	}
	return ""
}

// checkAccountChange is what makes an account change impossible for the
// tool to have planned. The trail is re-derived at apply (its selectors
// depend on the whole account); here only what it must never do.
func checkAccountChange(c Change) string {
	if c.Action == NoOp {
		if !sameJSON(c.Before, c.After) {
			return "a no-op whose after differs from its before"
		}
		return ""
	}
	if c.Action == Delete {
		return "the tool never deletes an account setting"
	}
	switch c.Control {
	case settings.AccountBlockPublicAccess:
		var after settings.PublicAccessBlock
		if err := decodeStrict(c.After, &after); err != nil {
			return err.Error()
		}
		if !after.AllOn() {
			return "its after leaves a Block Public Access flag off"
		}
	case settings.CloudTrailDataEvents:
		var after settings.Trail
		if err := json.Unmarshal(c.After, &after); err != nil {
			return "its after is not a trail: " + err.Error()
		}
		if !after.MultiRegion || !after.LogFileValidation || after.KMSKeyID == "" || !after.IsLogging {
			return "its after is not a logging, multi-region, KMS-encrypted trail with log file validation"
		}
	}
	return ""
}

// encryptionLayer orders default encryption: none < SSE-S3 < SSE-KMS <
// DSSE-KMS, the order "never weaker" is judged in.
func encryptionLayer(e *settings.Encryption) int {
	if e == nil {
		return 0
	}
	switch e.Algorithm {
	case settings.SSEKMSDSS:
		return 3
	case settings.SSEKMS:
		return 2
	case settings.SSES3:
		return 1
	}
	return 0
}

func decodeSetting[T any](raw json.RawMessage, v **T) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("its value is not a setting: %v", err)
	}
	return nil
}

func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("its after is not a setting: %v", err)
	}
	return nil
}

// sameJSON compares two JSON values as values.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
	}
	return reflect.DeepEqual(x, y)
}

// Rederive plans a bucket again, exactly as Build planned it, but from st,
// a state of the bucket already observed (apply's re-observation): obs is
// asked only for what st lacks (an aspect the plan did not record) and for
// the configured key. now should be the plan's time, so that exemption
// dates are judged as they were.
func Rederive(ctx context.Context, obs BucketObserver, cfg *baselines.Config, acct settings.AccountState, st settings.BucketState, now time.Time) BucketPlan {
	return RederiveControls(ctx, obs, cfg, acct, st, now, nil)
}

// RederiveControls is Rederive for the changes of the controls only (all
// when nil): it reads no more than they are judged from (JudgedFrom, of
// the aspects their baseline checks), so that apply re-reads what the
// changes it makes depend on and not every aspect of the bucket. Each of
// those changes comes out exactly as Rederive's, since a change is
// judged from those aspects alone (its Depends); the plan returned has
// no other changes, and its errors and findings are not the bucket's.
func RederiveControls(ctx context.Context, obs BucketObserver, cfg *baselines.Config, acct settings.AccountState, st settings.BucketState, now time.Time, only []settings.ControlID) BucketPlan {
	r := &run{bobs: &stateObserver{st: st, next: obs}, cfg: cfg, acct: acct, now: now, keys: map[string]*keyResult{}, only: only}
	return r.bucket(ctx, settings.BucketRef{Name: st.Name, Region: st.Region})
}

// stateObserver answers reads from a state observed before, and passes on
// only what it does not hold.
type stateObserver struct {
	st   settings.BucketState
	next BucketObserver
}

func (s *stateObserver) ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState {
	out := settings.BucketState{Name: ref.Name, Region: ref.Region}
	var missing []settings.Aspect
	for _, a := range aspects {
		if msg, failed := s.st.Errors[a]; failed {
			if out.Errors == nil {
				out.Errors = map[settings.Aspect]string{}
			}
			out.Errors[a] = msg
			continue
		}
		if !s.st.Has(a) {
			missing = append(missing, a)
			continue
		}
		out.CopyAspect(&s.st, a)
		out.Observed = append(out.Observed, a)
	}
	if len(missing) > 0 {
		more := s.next.ObserveBucket(ctx, ref, missing)
		for _, a := range missing {
			if msg, failed := more.Errors[a]; failed {
				if out.Errors == nil {
					out.Errors = map[settings.Aspect]string{}
				}
				out.Errors[a] = msg
				continue
			}
			out.CopyAspect(&more, a)
			out.Observed = append(out.Observed, a)
		}
		out.Unanswered = more.Unanswered
	}
	return out
}

func (s *stateObserver) DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error) {
	return s.next.DescribeKey(ctx, region, ref)
}

// Mismatch is a difference between a plan's bucket and the tool's own
// plan of it: one control's change (Control set), or the bucket's
// baseline (Control empty).
type Mismatch struct {
	Control settings.ControlID
	What    string
	// Depends are the aspects both versions of the change were judged
	// from: when none of them changed since the plan, the plan's change
	// can only have been edited.
	Depends []settings.Aspect
}

// Mismatches compares the plan's bucket with derived, the tool's plan of
// the same bucket (Rederive), change by change. A change the plan has and
// derived lacks, or has differently in any field, is a mismatch; a change
// only derived has is not (the plan may do less than the tool would, never
// more or otherwise).
func Mismatches(planned, derived BucketPlan) []Mismatch {
	var out []Mismatch
	if planned.Baseline != derived.Baseline {
		out = append(out, Mismatch{What: fmt.Sprintf("the bucket's baseline is %s, the config assigns %s", planned.Baseline, derived.Baseline),
			Depends: []settings.Aspect{settings.AspectTags}})
	}
	for _, p := range planned.Changes {
		i := slices.IndexFunc(derived.Changes, func(d Change) bool { return d.Control == p.Control })
		if i < 0 {
			out = append(out, Mismatch{Control: p.Control, What: "the tool plans no change of this control", Depends: unionAspects(p.Depends, settings.AspectsFor(p.Control))})
			continue
		}
		d := derived.Changes[i]
		if what := changeDiff(p, d); what != "" {
			out = append(out, Mismatch{Control: p.Control, What: what, Depends: unionAspects(p.Depends, d.Depends, settings.AspectsFor(p.Control))})
		}
	}
	return out
}

// changeDiff names the first field in which two changes of one control
// differ, "" when they are the same change.
func changeDiff(p, d Change) string {
	switch {
	case p.Action != d.Action:
		return fmt.Sprintf("action %s, the tool plans %s", p.Action, d.Action)
	case !sameJSON(p.Before, d.Before):
		return "its before is not the bucket's state"
	case !sameJSON(p.After, d.After):
		return "its after is not what the tool plans (" + compactValue(d.After) + ")"
	case p.HeldBack != d.HeldBack:
		return "its held_back differs from the tool's"
	case !slices.Equal(p.Impact, d.Impact):
		return "its impact differs from the tool's"
	case !containsAll(p.Depends, d.Depends):
		// More than the tool needs is harmless: a plan made from a state
		// that needed more (a public website the tool's own earlier write
		// has since closed) pins more. Less would let a change escape
		// its staleness check.
		return "its depends leaves out what the tool judges it from"
	case !slices.Equal(p.NIST, d.NIST):
		return "its nist differs from the baseline's"
	}
	return ""
}

// containsAll reports whether every aspect of sub is in all.
func containsAll(all, sub []settings.Aspect) bool {
	for _, a := range sub {
		if !slices.Contains(all, a) {
			return false
		}
	}
	return true
}

func unionAspects(lists ...[]settings.Aspect) []settings.Aspect {
	var all []settings.Aspect
	for _, l := range lists {
		all = append(all, l...)
	}
	return sortedAspects(all)
}
