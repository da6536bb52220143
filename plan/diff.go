package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// Input is everything the diff of one bucket reads. Diff does no I/O: the
// bucket was observed, assigned and its desired settings resolved before.
type Input struct {
	State      settings.BucketState
	Account    settings.AccountState
	Assignment baselines.Assignment
	Desired    Desired
}

// Checked returns the controls a bucket is diffed on: those its baseline
// enforces (report-mode controls are never changes) and no exemption in
// force covers, in plan order. The region's log target is never diffed on
// access_logging: it must not log into itself.
func Checked(a baselines.Assignment, logTarget bool) []settings.ControlID {
	var out []settings.ControlID
	for _, id := range settings.BucketControls {
		if a.Baseline.Enforced(id) && !exempted(a, id) && (id != settings.AccessLogging || !logTarget) {
			out = append(out, id)
		}
	}
	return out
}

// Reported returns the bucket controls a bucket's baseline reports on and
// no exemption covers, in plan order: they give findings, never changes.
func Reported(a baselines.Assignment) []settings.ControlID {
	var out []settings.ControlID
	for _, id := range settings.BucketControls {
		if spec, ok := a.Baseline.Spec(id); ok && spec.Mode == baselines.ModeReport && !exempted(a, id) {
			out = append(out, id)
		}
	}
	return out
}

// AspectsNeeded is the union of the aspects the checked and reported
// controls are judged from, in a stable order. Observation reads these and
// nothing else.
func AspectsNeeded(a baselines.Assignment, logTarget bool) []settings.Aspect {
	var out []settings.Aspect
	for _, id := range append(Checked(a, logTarget), Reported(a)...) {
		for _, asp := range settings.AspectsFor(id) {
			if !slices.Contains(out, asp) {
				out = append(out, asp)
			}
		}
	}
	return out
}

func exempted(a baselines.Assignment, id settings.ControlID) bool {
	return slices.ContainsFunc(a.Exempt, func(e baselines.Exemption) bool { return e.Control == id })
}

// bucketCtx is the working state of one bucket's diff: the input, the
// policy parsed once for both policy controls, and the messages collected.
type bucketCtx struct {
	Input
	baseline *baselines.Baseline
	// policy is the parsed bucket policy; nil when there is none or it
	// could not be parsed (policyErr).
	policy    *settings.PolicyDocument
	policyErr error
	warnings  []string
	errors    []string
}

func (c *bucketCtx) warnf(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

func (c *bucketCtx) errorf(format string, args ...any) {
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

func (c *bucketCtx) bucketARN() string { return settings.BucketARN(c.Desired.Partition, c.State.Name) }

// differ computes one control's change; it returns nil when there is no
// change entry at all (the control could not be judged, and said why in
// the bucket's errors, or is deliberately not applied, with a warning).
type differ func(c *bucketCtx) *Change

func differFor(id settings.ControlID) differ {
	switch id {
	case settings.BlockPublicAccess:
		return diffPublicAccessBlock
	case settings.ObjectOwnership:
		return diffOwnership
	case settings.DefaultEncryption:
		return diffEncryption
	case settings.BlockSSEC:
		return diffBlockSSEC
	case settings.AccessLogging:
		return diffLogging
	case settings.TLSOnly:
		return diffTLSOnly
	case settings.AdminPolicyLock:
		return diffAdminLock
	case settings.EventNotifications:
		return diffNotifications
	case settings.Versioning:
		return diffVersioning
	}
	return nil
}

// Diff computes one bucket's plan.
func Diff(in Input) BucketPlan {
	c := &bucketCtx{Input: in, baseline: in.Assignment.Baseline}
	bp := BucketPlan{
		Name:        in.State.Name,
		Region:      in.State.Region,
		Baseline:    baselineName(c.baseline),
		StateDigest: StateDigest(in.State),
		Observed:    sortedAspects(in.State.Observed),
		Changes:     []Change{},
		Exempt:      []Exemption{},
	}
	for _, e := range in.Assignment.Exempt {
		bp.Exempt = append(bp.Exempt, Exemption(e))
	}

	// One error line per aspect that could not be read; the controls judged
	// from it are not diffed.
	for _, asp := range sortedAspects(mapKeys(in.State.Errors)) {
		c.errorf("%s", in.State.Errors[asp])
	}
	if in.State.Has(settings.AspectPolicy) && in.State.Policy != nil {
		c.policy, c.policyErr = settings.ParsePolicy(in.State.Policy.Raw)
		if c.policyErr != nil {
			c.errorf("bucket policy cannot be read as a policy, so tls_only and admin_policy_lock are not checked: %v", c.policyErr)
		}
	}

	if in.Desired.IsLogTarget && in.Assignment.Baseline.Enforced(settings.AccessLogging) && !exempted(in.Assignment, settings.AccessLogging) {
		c.warnf("access_logging: not enabled on purpose: this bucket is the server access log target for %s and never logs into itself", in.State.Region)
	}
	if in.Desired.IsLogTarget && in.Assignment.Baseline.Enforced(settings.DefaultEncryption) &&
		in.Assignment.Baseline.Encryption != baselines.EncryptSSES3 && !exempted(in.Assignment, settings.DefaultEncryption) {
		c.warnf("default_encryption: kept at SSE-S3 (AES256) whatever baseline %s says: %s", in.Assignment.Baseline.Name, logTargetReason)
	}
	for _, id := range Checked(in.Assignment, in.Desired.IsLogTarget) {
		if l, ok := lapsed(in.Assignment, id); ok {
			msg := "exemption of " + string(id) + " lapsed on " + l.Until
			if l.Reason != "" {
				msg += " (" + l.Reason + ")"
			}
			c.warnf("%s: enforced again", msg)
		}
		if !c.judgeable(id) {
			continue
		}
		ch := differFor(id)(c)
		if ch == nil {
			continue
		}
		ch.Control = id
		ch.NIST = nistOf(c.baseline, id)
		bp.Changes = append(bp.Changes, *ch)
	}

	bp.Findings = c.report(Reported(in.Assignment))
	c.warnings = append(c.warnings, mute(bp.Findings, in.Assignment.Muted, in.Assignment.LapsedMutes)...)

	c.holdPolicyWrites(bp.Changes)
	c.assessImpact(bp.Changes)
	for i := range bp.Changes {
		bp.Changes[i].Depends = dependsOn(bp.Changes[i].Control, &in.State)
	}
	bp.AspectDigests = AspectDigests(in.State)
	bp.Warnings = nonNil(c.warnings)
	bp.Errors = nonNil(c.errors)
	bp.Preserved = c.preserved(bp.Changes)
	return bp
}

// report judges the report-mode controls: a report-only control by its
// reporter, an enforceable one by the change enforcing it would make.
func (c *bucketCtx) report(ids []settings.ControlID) []Finding {
	var out []Finding
	for _, id := range ids {
		if !c.judgeable(id) {
			continue
		}
		var found []Finding
		if r := reporterFor(id); r != nil {
			found = r(c)
		} else if d := differFor(id); d != nil {
			if ch := d(c); ch != nil && ch.Action != NoOp {
				found = []Finding{c.finding(ch.Reason)}
			}
		}
		for _, f := range found {
			f.Control, f.NIST = id, nistOf(c.baseline, id)
			out = append(out, f)
		}
	}
	return out
}

// JudgedFrom lists every aspect a change of control id can be judged
// from: the aspects of the control itself, those its impact and its
// up-front refusals read, and the tags (they pick the baseline and tell
// whether CloudFormation manages the bucket). A change's Depends are those
// of them the plan observed.
func JudgedFrom(id settings.ControlID) []settings.Aspect {
	want := slices.Clone(settings.AspectsFor(id))
	switch id {
	case settings.BlockPublicAccess, settings.DefaultEncryption:
		want = append(want, settings.AspectPublicAccessBlock, settings.AspectPolicy, settings.AspectACL,
			settings.AspectOwnership, settings.AspectWebsite)
	case settings.ObjectOwnership:
		want = append(want, settings.AspectACL)
	case settings.TLSOnly, settings.AdminPolicyLock:
		want = append(want, settings.AspectPublicAccessBlock, settings.AspectWebsite)
	}
	return sortedAspects(append(want, settings.AspectTags))
}

// JudgedFromAny keeps, of aspects, those a change of any of controls can
// be judged from (JudgedFrom).
func JudgedFromAny(controls []settings.ControlID, aspects []settings.Aspect) []settings.Aspect {
	var want []settings.Aspect
	for _, id := range controls {
		want = append(want, JudgedFrom(id)...)
	}
	return slices.DeleteFunc(slices.Clone(aspects), func(a settings.Aspect) bool { return !slices.Contains(want, a) })
}

// dependsOn lists the observed aspects a control's change is judged from
// (JudgedFrom, as far as st has them).
func dependsOn(id settings.ControlID, st *settings.BucketState) []settings.Aspect {
	var out []settings.Aspect
	for _, a := range JudgedFrom(id) {
		if st.Has(a) {
			out = append(out, a)
		}
	}
	return out
}

// judgeable reports whether every aspect control id is judged from was
// read; an aspect read error is already on the bucket's error list.
func (c *bucketCtx) judgeable(id settings.ControlID) bool {
	for _, asp := range settings.AspectsFor(id) {
		if _, failed := c.State.Errors[asp]; failed {
			return false
		}
		if !c.State.Has(asp) {
			c.errorf("%s: the bucket's %s was not observed", id, asp)
			return false
		}
		if asp == settings.AspectPolicy && c.policyErr != nil {
			return false
		}
	}
	return true
}

func baselineName(b *baselines.Baseline) string {
	if b == nil {
		return ""
	}
	return b.Name
}

func lapsed(a baselines.Assignment, id settings.ControlID) (baselines.Exemption, bool) {
	for _, e := range a.Lapsed {
		if e.Control == id {
			return e, true
		}
	}
	return baselines.Exemption{}, false
}

// nistOf is the control's NIST mapping as the baseline states it, falling
// back to the catalogue's.
func nistOf(b *baselines.Baseline, id settings.ControlID) []string {
	if spec, ok := b.Spec(id); ok && len(spec.NIST) > 0 {
		return slices.Clone(spec.NIST)
	}
	return slices.Clone(baselines.NIST(id))
}

// preserved lists the foreign policy statements and notification entries a
// planned write keeps (see Preserved for when).
func (c *bucketCtx) preserved(changes []Change) *Preserved {
	planned := func(ids ...settings.ControlID) bool {
		return slices.ContainsFunc(changes, func(ch Change) bool {
			return ch.Action != NoOp && slices.Contains(ids, ch.Control)
		})
	}
	var p Preserved
	if c.policy != nil && planned(settings.TLSOnly, settings.AdminPolicyLock) {
		for i, s := range c.policy.Statements {
			if !settings.OwnedSid(s.Sid) {
				p.PolicyStatements = append(p.PolicyStatements, statementLabel(s, i))
			}
		}
	}
	if n := c.State.Notifications; n != nil && planned(settings.EventNotifications) {
		for _, e := range n.Foreign() {
			p.Notifications = append(p.Notifications, entryLabel(e))
		}
		if n.EventBridge {
			p.Notifications = append(p.Notifications, "EventBridge")
		}
	}
	if p.PolicyStatements == nil && p.Notifications == nil {
		return nil
	}
	return &p
}

// statementLabel names a statement for people: its Sid, or its position.
func statementLabel(s settings.Statement, i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("statement %d (no Sid)", i+1)
}

// entryLabel names a notification entry for people: "queue ingest
// (s3:ObjectCreated:Put)".
func entryLabel(e settings.NotificationEntry) string {
	id := e.ID
	if id == "" {
		id = "(no Id)"
	}
	return fmt.Sprintf("%s %s (%s)", e.Kind, id, strings.Join(e.Events, ", "))
}

// rawJSON marshals a control's setting; a nil pointer is null. The values
// are plain structs of strings and bools, which always marshal.
func rawJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic("plan: marshal setting: " + err.Error())
	}
	return data
}

// noop is the change of a compliant control: the current setting both
// before and after.
func noop(current json.RawMessage, reason string) *Change {
	return &Change{Action: NoOp, Before: current, After: current, Reason: reason}
}

// createOrUpdate is Create when nothing is set yet and Update otherwise.
func createOrUpdate(absent bool) Action {
	if absent {
		return Create
	}
	return Update
}

func sortedAspects(list []settings.Aspect) []settings.Aspect {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// nonNil makes a list that serialises as [] rather than null, so that
// scripts can iterate the document's lists without checking for null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
