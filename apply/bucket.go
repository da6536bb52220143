package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// One bucket's apply. Every pending change is judged on its own, so that
// a control that cannot or must not be applied holds back that control
// and not the bucket:
//
//  1. A change the plan holds back (HeldBack), or whose impact the
//     operator did not allow, is held back with its reason.
//  2. The aspects the plan observed are read again. A change judged from
//     an aspect that changed since (other than the one it writes) is
//     stale: what it would cut off, or whether it is wanted, may be
//     different now.
//  3. Preconditions are checked on what was just read, before the first
//     write: a lock-out, an overlap, a merged policy over AWS's limit.
//  4. The writes are made one document at a time, in an order where no
//     write makes a later one impossible (the policy before Block Public
//     Access). Immediately before each write the document is read again
//     and compared with the plan's before-state of each control, our own
//     statements included (compare and swap): a control whose part
//     differs is stale and nothing is written to it, one whose part is
//     already the plan's after is done.

// prepared is a bucket observed again and planned again before any write
// of the run (see Apply): the state, the aspects read for it, and the
// tool's own change of each control to apply that differs from the
// plan's, with why.
type prepared struct {
	st         settings.BucketState
	read       []settings.Aspect
	derived    map[settings.ControlID]plan.Change
	mismatches map[settings.ControlID]plan.Mismatch
	// moved are the aspects someone else changed after the check before
	// the run's first write (see recheck).
	moved map[settings.Aspect]bool
}

// prepare re-observes what the plan's changes to apply were judged from
// (their controls' plan.JudgedFrom, as far as the plan observed it) and
// plans those controls again from it, exactly as plan did, with the plan's
// config and time: apply reads what its changes depend on, not every
// aspect the plan read. forged lists the plan's changes that differ from
// the tool's although nothing they were judged from changed since: the
// plan was edited. A plan without aspect digests (older than them) is
// re-observed and planned again whole.
func (a *applier) prepare(ctx context.Context, bp plan.BucketPlan) (prep *prepared, forged []string) {
	ref := settings.BucketRef{Name: bp.Name, Region: bp.Region}
	var only []settings.ControlID
	var applied []plan.Change
	read := bp.Observed
	if bp.AspectDigests != nil {
		var depends []settings.Aspect
		for _, c := range bp.Changes {
			if c.Applicable(a.o.AllowImpact) {
				only = append(only, c.Control)
				applied = append(applied, c)
				depends = append(depends, c.Depends...)
			}
		}
		// The tool's own list decides what is read, so that a file's
		// Depends cut short cannot narrow it; the file's add to it.
		judged := plan.JudgedFromAny(only, bp.Observed)
		read = slices.DeleteFunc(slices.Clone(bp.Observed), func(asp settings.Aspect) bool {
			return !slices.Contains(judged, asp) && !slices.Contains(depends, asp)
		})
	}
	st, seen := a.o.Observed[bp.Name]
	if !seen || slices.ContainsFunc(read, func(asp settings.Aspect) bool { return !st.Has(asp) }) {
		st = a.p.ObserveBucket(ctx, ref, read)
	}
	st.Name, st.Region = bp.Name, bp.Region
	prep = &prepared{st: st, read: read, derived: map[settings.ControlID]plan.Change{}, mismatches: map[settings.ControlID]plan.Mismatch{}}
	derived := plan.RederiveControls(ctx, a.obs, a.cfg, a.acct, st, a.pl.CreatedAt, only)
	for _, c := range derived.Changes {
		prep.derived[c.Control] = c
	}
	changed := changedAspects(bp, st, read)
	// Forged only where what was read is exactly as the plan recorded it:
	// any difference makes a mismatch stale (never written either way).
	same := len(changed) == 0 && len(st.Errors) == 0
	compared := bp
	if only != nil {
		// The changes apply makes; one it does not make writes nothing,
		// whatever the file says of it.
		compared.Changes = applied
	} else {
		same = same && plan.StateDigest(st) == bp.StateDigest
	}
	for _, m := range plan.Mismatches(compared, derived) {
		prep.mismatches[m.Control] = m
		if d, ok := prep.derived[m.Control]; ok && m.Control != "" && d.Action == plan.NoOp && d.HeldBack == "" {
			// In place now (the tool's policy statements, say, are not
			// in the digests the plan pins): nothing is written for it
			// (see bucket), so nothing forged can be.
			continue
		}
		if !same || a.inputsChanged != "" || slices.ContainsFunc(m.Depends, func(asp settings.Aspect) bool {
			_, failed := st.Errors[asp]
			return changed[asp] || failed
		}) {
			continue // changed since the plan: stale, not forged
		}
		what := "bucket " + strconv.Quote(bp.Name)
		if m.Control != "" {
			what += " " + string(m.Control)
		}
		forged = append(forged, what+": "+m.What)
	}
	return prep, forged
}

// recheck reads a bucket's aspects again right before its writes. The
// check before the run's first write covers every bucket, so by a
// bucket's turn it can be minutes old, and a change made meanwhile to
// what a change was judged from (a partner's statement in the policy
// before default encryption moves to SSE-KMS, a website turned on before
// Block Public Access) would go unseen: each write compares only the
// aspect it writes. An aspect that reads otherwise now has moved: every
// change judged from it is stale. The run's own writes to the bucket come
// after this look, and those for other buckets (a log bucket's delivery
// grant) are the tool's statements, which the digests leave out. The
// judgement stays the first check's (a key the run created since must not
// change it); the changes' own aspects are still compared at their writes.
// The event path's plan is its own observation of moments before: nothing
// to read again. Only what a change depends on besides its own aspects is
// read: a change's own aspect is read at its write all the same, and a
// change of it alone never makes that change stale (staleDependency).
func (a *applier) recheck(ctx context.Context, bp plan.BucketPlan, prep *prepared) *prepared {
	if prep == nil || len(prep.read) == 0 {
		return prep
	}
	if _, seen := a.o.Observed[bp.Name]; seen {
		return prep
	}
	if stopped(ctx, a.o.Stop) != nil {
		return prep // bucket skips it: nothing is written after a stop
	}
	read := a.othersDepends(bp, prep.read)
	if len(read) == 0 {
		return prep
	}
	now := a.p.ObserveBucket(ctx, settings.BucketRef{Name: bp.Name, Region: bp.Region}, read)
	again := *prep
	again.moved = map[settings.Aspect]bool{}
	for _, asp := range read {
		_, failedNow := now.Errors[asp]
		_, failedThen := prep.st.Errors[asp]
		switch {
		case failedThen:
		case failedNow:
			// Cannot tell what it is now: as good as moved.
			again.moved[asp] = true
		case plan.AspectDigest(now, asp) != plan.AspectDigest(prep.st, asp):
			again.moved[asp] = true
		}
	}
	return &again
}

// othersDepends keeps, of read, the aspects some change to apply is judged
// from (by the tool's list, and the file's) other than its own.
func (a *applier) othersDepends(bp plan.BucketPlan, read []settings.Aspect) []settings.Aspect {
	return slices.DeleteFunc(slices.Clone(read), func(asp settings.Aspect) bool {
		return !slices.ContainsFunc(bp.Changes, func(c plan.Change) bool {
			return c.Applicable(a.o.AllowImpact) && !slices.Contains(settings.AspectsFor(c.Control), asp) &&
				(slices.Contains(plan.JudgedFrom(c.Control), asp) || slices.Contains(c.Depends, asp))
		})
	})
}

// movedDuring reports whether someone else changed asp during the run
// (recheck). A nil prep has not been looked at twice.
func (p *prepared) movedDuring(asp settings.Aspect) bool {
	return p != nil && p.moved[asp]
}

// plansSame reports whether the bucket, planned again, has exactly the
// plan's change of control c. A nil prep (not planned again) has not.
func (p *prepared) plansSame(c settings.ControlID) bool {
	if p == nil {
		return false
	}
	_, derived := p.derived[c]
	_, mismatch := p.mismatches[c]
	_, baseline := p.mismatches[""]
	return derived && !mismatch && !baseline
}

// ownWriteOf reports whether the plan changes aspect asp and every one of
// those changes is, planned again, in place: asp changed since the plan
// because the plan's own writes to it were made.
func (p *prepared) ownWriteOf(bp plan.BucketPlan, asp settings.Aspect) bool {
	if p == nil {
		return false
	}
	writes := false
	for _, c := range bp.Changes {
		if c.Action == plan.NoOp || !slices.Contains(settings.AspectsFor(c.Control), asp) {
			continue
		}
		writes = true
		if d, ok := p.derived[c.Control]; !ok || d.Action != plan.NoOp {
			return false
		}
	}
	return writes
}

// needsWrites reports whether a bucket of the plan has a change apply may
// make, so that it is worth observing before the writes.
func (a *applier) needsWrites(bp plan.BucketPlan) bool {
	return slices.ContainsFunc(bp.Changes, func(c plan.Change) bool { return c.Applicable(a.o.AllowImpact) })
}

// bucket applies one bucket's part of the plan. prep is the bucket as
// observed and planned again before the run's first write; nil observes it
// now (a bucket the tool itself just created and planned).
func (a *applier) bucket(ctx context.Context, bp plan.BucketPlan, prep *prepared) Outcome {
	out := Outcome{Account: a.account, Bucket: bp.Name, Region: bp.Region}
	var todo []plan.Change
	for _, c := range bp.Changes {
		// What the tool plans now decides the holding back too: an impact
		// or a refusal found since the plan holds the change.
		d, derived := plan.Change{}, false
		if prep != nil {
			d, derived = prep.derived[c.Control]
		}
		switch {
		case c.Action == plan.NoOp:
		case c.HeldBack != "":
			out.hold(c.Control, c.HeldBack)
		case derived && d.HeldBack != "":
			out.hold(c.Control, d.HeldBack)
		case len(c.Impact) > 0 && !a.o.AllowImpact:
			out.hold(c.Control, impactReason(c))
		case derived && len(d.Impact) > 0 && !a.o.AllowImpact:
			out.hold(c.Control, impactReason(d))
		default:
			todo = append(todo, c)
		}
	}
	if len(bp.Errors) > 0 {
		// The controls the errors are about have no change in the plan;
		// the others are applied, and the run still says it is not
		// complete.
		out.addErr(&BucketError{bp.Name, bp.Region, "not all controls checked",
			fmt.Errorf("%w (%s); fix them and plan again", ErrPlanErrors, strings.Join(bp.Errors, "; "))})
	}
	if len(todo) == 0 {
		out.finish(len(out.Held) == 0 && len(bp.Errors) == 0)
		return out
	}
	if err := stopped(ctx, a.o.Stop); err != nil {
		out.Status = StatusSkipped
		out.addErr(&BucketError{bp.Name, bp.Region, "not started", err})
		return out
	}
	ref := settings.BucketRef{Name: bp.Name, Region: bp.Region}

	var st settings.BucketState
	read := bp.Observed
	if prep != nil {
		st, read = prep.st, prep.read
	} else {
		st = a.p.ObserveBucket(ctx, ref, bp.Observed)
		st.Name, st.Region = bp.Name, bp.Region
	}
	changed := changedAspects(bp, st, read)
	if prep != nil {
		for asp := range prep.moved {
			changed[asp] = true
		}
	}
	var ready []plan.Change
	for _, c := range todo {
		if asp, msg := failedDependency(c, bp, st); msg != "" {
			out.fail([]settings.ControlID{c.Control}, fmt.Errorf("re-observe %s before applying: %s; nothing was written to it", asp, msg))
			continue
		}
		// A change judged from an aspect that changed since is stale,
		// unless the change there is this plan's own (an earlier run of it
		// was cut off after writing that aspect) and, planned again from
		// the bucket as it is now, the change comes out the same.
		if asp := staleDependency(c, bp, changed); asp != "" && (prep.movedDuring(asp) || !(prep.ownWriteOf(bp, asp) && prep.plansSame(c.Control))) {
			when := "since the plan was made"
			if prep.movedDuring(asp) {
				when = "during this apply"
			}
			out.stale(c.Control, fmt.Sprintf("the bucket's %s changed %s, and %s was judged from it", asp, when, c.Control))
			continue
		}
		if prep != nil {
			m, ok := prep.mismatches[c.Control]
			if !ok {
				m, ok = prep.mismatches[""] // the bucket's baseline
			}
			if ok {
				// Planned again, the control needs nothing: it is in
				// place, by this tool's own earlier write (a run cut off
				// after it) or anyone's. Nothing is written either way.
				if d, ok := prep.derived[c.Control]; ok && d.Action == plan.NoOp && d.HeldBack == "" {
					out.applied(c.Control)
					continue
				}
				out.stale(c.Control, "the tool now plans it otherwise ("+m.What+")")
				continue
			}
		}
		ready = append(ready, c)
	}
	a.applyChanges(ctx, ref, bp, st, ready, &out)
	out.finish(len(bp.Errors) == 0)
	return out
}

// changedAspects are the aspects read again (read, of those the plan
// observed) whose state differs from the plan's. A plan without aspect
// digests (written before they existed) has only the whole digest: then
// every aspect counts as changed when it differs.
func changedAspects(bp plan.BucketPlan, st settings.BucketState, read []settings.Aspect) map[settings.Aspect]bool {
	changed := map[settings.Aspect]bool{}
	if bp.AspectDigests == nil {
		if plan.StateDigest(st) != bp.StateDigest {
			for _, asp := range bp.Observed {
				changed[asp] = true
			}
		}
		return changed
	}
	for _, asp := range read {
		want, ok := bp.AspectDigests[asp]
		if !ok {
			continue // derived, not pinned (policy_status)
		}
		if _, failed := st.Errors[asp]; !failed && plan.AspectDigest(st, asp) != want {
			changed[asp] = true
		}
	}
	return changed
}

// depends is what a change was judged from: its own record, or for a plan
// without one every observed aspect.
func depends(c plan.Change, bp plan.BucketPlan) []settings.Aspect {
	if c.Depends != nil {
		return c.Depends
	}
	return bp.Observed
}

// failedDependency is an aspect the change depends on that could not be
// read again, with the error.
func failedDependency(c plan.Change, bp plan.BucketPlan, st settings.BucketState) (settings.Aspect, string) {
	for _, asp := range depends(c, bp) {
		if msg, failed := st.Errors[asp]; failed {
			return asp, msg
		}
	}
	return "", ""
}

// staleDependency is an aspect the change was judged from, other than the
// one it writes (compared and swapped at the write), that changed.
func staleDependency(c plan.Change, bp plan.BucketPlan, changed map[settings.Aspect]bool) settings.Aspect {
	own := settings.AspectsFor(c.Control)
	for _, asp := range depends(c, bp) {
		if changed[asp] && !slices.Contains(own, asp) {
			return asp
		}
	}
	return ""
}

// changeSet is one bucket's applicable changes, decoded, by control.
type changeSet struct {
	byControl map[settings.ControlID]plan.Change

	pab        *settings.PublicAccessBlock
	ownership  *settings.Ownership
	encryption *settings.Encryption // default_encryption's after
	sseC       *settings.Encryption // block_sse_c's after
	logging    *settings.Logging
	versioning *settings.VersioningConfig
	// policy holds tls_only's and admin_policy_lock's statements by Sid
	// (nil: remove it).
	policy       map[settings.ControlID]json.RawMessage
	notification *settings.NotificationEntry
}

func (cs *changeSet) has(c settings.ControlID) bool { _, ok := cs.byControl[c]; return ok }

// policySid is the statement Sid a policy control owns.
func policySid(c settings.ControlID) string {
	if c == settings.AdminPolicyLock {
		return settings.SidDenyAdminPolicyChanges
	}
	return settings.SidDenyInsecureTransport
}

// applyChanges checks the preconditions and makes the writes of one bucket
// whose state st was just observed.
func (a *applier) applyChanges(ctx context.Context, ref settings.BucketRef, bp plan.BucketPlan, st settings.BucketState, changes []plan.Change, out *Outcome) {
	cs := &changeSet{byControl: map[settings.ControlID]plan.Change{}, policy: map[settings.ControlID]json.RawMessage{}}
	for _, c := range changes {
		if err := cs.add(ref, c); err != nil {
			out.fail([]settings.ControlID{c.Control}, fmt.Errorf("refused: %w; nothing was written to it", err))
		}
	}
	a.preconditions(st, cs, out)
	w := &bucketWrites{a: a, ref: ref, bp: bp, cs: cs, out: out, st: st}

	policyFailed := false
	var outage error
	steps := []struct {
		controls []settings.ControlID
		run      func(context.Context, []settings.ControlID) (int, error)
	}{
		// The policy first: Block Public Access's BlockPublicPolicy would
		// make S3 refuse a later write of a public policy.
		{[]settings.ControlID{settings.TLSOnly, settings.AdminPolicyLock}, w.policy},
		{[]settings.ControlID{settings.ObjectOwnership}, w.ownership},
		{[]settings.ControlID{settings.DefaultEncryption, settings.BlockSSEC}, w.encryption},
		{[]settings.ControlID{settings.AccessLogging}, w.logging},
		{[]settings.ControlID{settings.Versioning}, w.versioning},
		{[]settings.ControlID{settings.EventNotifications}, w.notifications},
		{[]settings.ControlID{settings.BlockPublicAccess}, w.publicAccessBlock},
	}
	for _, s := range steps {
		var controls []settings.ControlID
		for _, c := range s.controls {
			if cs.has(c) {
				controls = append(controls, c)
			}
		}
		if len(controls) == 0 {
			continue
		}
		if slices.Contains(controls, settings.BlockPublicAccess) && policyFailed {
			out.fail(controls, errors.New("not attempted: the bucket policy write before it failed, and Block Public Access could make S3 refuse the next one"))
			continue
		}
		if err := stopped(ctx, a.o.Stop); err != nil {
			out.fail(controls, fmt.Errorf("not attempted: %w", err))
			continue
		}
		if outage != nil {
			out.fail(controls, fmt.Errorf("not attempted: S3 did not take the write before it (%s); run apply again", oneLine(outage)))
			continue
		}
		n, err := s.run(ctx, controls)
		out.Writes += n
		if err != nil {
			if slices.Contains(controls, settings.TLSOnly) || slices.Contains(controls, settings.AdminPolicyLock) {
				policyFailed = true
			}
			if notAnswered(err) {
				// The bucket's endpoint failed the write after the
				// retries: its next writes would only fail the same way.
				outage = err
			}
			out.fail(controls, err)
		}
	}
}

// notAnswered reports whether a write failed for want of an answer rather
// than by a refusal: a server error or throttling left after the retries,
// or no AWS answer at all (a timeout, the network). A refusal (AccessDenied,
// MalformedPolicy, ...) is about that one document.
func notAnswered(err error) bool {
	if errors.Is(err, ErrStale) {
		return false
	}
	switch ErrorCode(err) {
	case "":
		var netErr net.Error
		return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
	case "InternalError", "ServiceUnavailable", "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "503", "500":
		return true
	}
	return false
}

// add decodes one change's After into the set.
func (cs *changeSet) add(ref settings.BucketRef, c plan.Change) error {
	bad := func(err error) error {
		return fmt.Errorf("the plan's after value cannot be read: %v", err)
	}
	var err error
	switch c.Control {
	case settings.BlockPublicAccess:
		err = json.Unmarshal(c.After, &cs.pab)
	case settings.ObjectOwnership:
		err = json.Unmarshal(c.After, &cs.ownership)
	case settings.DefaultEncryption:
		err = json.Unmarshal(c.After, &cs.encryption)
	case settings.BlockSSEC:
		if err = json.Unmarshal(c.After, &cs.sseC); err == nil && !cs.sseC.SSECBlocked() {
			err = errors.New("the rule does not block SSE-C")
		}
	case settings.AccessLogging:
		if err = json.Unmarshal(c.After, &cs.logging); err == nil && cs.logging != nil && cs.logging.TargetBucket == ref.Name {
			return errors.New("the bucket would log into itself")
		}
	case settings.TLSOnly, settings.AdminPolicyLock:
		sid := policySid(c.Control)
		if isNull(c.After) {
			cs.policy[c.Control] = nil
			break
		}
		s, perr := settings.ParseStatement(c.After)
		switch {
		case perr != nil:
			err = perr
		case s.Sid != sid:
			err = fmt.Errorf("the statement's Sid is %q, not %q", s.Sid, sid)
		default:
			cs.policy[c.Control] = c.After
		}
	case settings.Versioning:
		if err = json.Unmarshal(c.After, &cs.versioning); err == nil && (cs.versioning == nil || cs.versioning.Status != settings.VersioningEnabled) {
			err = errors.New("the only versioning the tool writes is Enabled")
		}
	case settings.EventNotifications:
		if err = json.Unmarshal(c.After, &cs.notification); err == nil && cs.notification != nil && cs.notification.ID != settings.NotificationID {
			err = fmt.Errorf("the entry's Id is %q, not %q", cs.notification.ID, settings.NotificationID)
		}
	default:
		return fmt.Errorf("apply does not know the control %q", c.Control)
	}
	if err != nil {
		return bad(err)
	}
	cs.byControl[c.Control] = c
	return nil
}

// drop takes controls out of the set, so that nothing is written for them.
func (cs *changeSet) drop(controls ...settings.ControlID) {
	for _, c := range controls {
		delete(cs.byControl, c)
		delete(cs.policy, c)
	}
}

// preconditions are checked against the state just observed, before the
// first write: a control that would fail, or must not be made, is held
// back alone and the others go on.
func (a *applier) preconditions(st settings.BucketState, cs *changeSet, out *Outcome) {
	if stmt := cs.policy[settings.AdminPolicyLock]; stmt != nil {
		s, _ := settings.ParseStatement(stmt) // parsed in add
		if who := a.deniedCaller(s); who != "" {
			out.hold(settings.AdminPolicyLock, fmt.Sprintf("the deny names %s, which is the caller %s: it would lock s3baseline out of this bucket's policy", who, a.id.ARN))
			cs.drop(settings.AdminPolicyLock)
		}
	}
	if len(cs.policy) > 0 {
		set, remove := policyEdit(cs.policy)
		if _, err := settings.MergePolicy(st.Policy, set, remove); err != nil {
			controls := slices.Sorted(maps.Keys(cs.policy))
			for _, c := range controls {
				out.hold(c, err.Error())
			}
			cs.drop(controls...)
		}
	}
	if cs.notification != nil {
		if conflicts := settings.OverlapConflicts(st.Notifications, *cs.notification); len(conflicts) > 0 {
			out.hold(settings.EventNotifications, overlapError(conflicts, *cs.notification).Error())
			cs.drop(settings.EventNotifications)
			cs.notification = nil
		}
	}
}

// policyEdit is the statements to set and the Sids to remove.
func policyEdit(m map[settings.ControlID]json.RawMessage) (set map[string]json.RawMessage, remove []string) {
	set = map[string]json.RawMessage{}
	for _, c := range slices.Sorted(maps.Keys(m)) {
		if m[c] == nil {
			remove = append(remove, policySid(c))
		} else {
			set[policySid(c)] = m[c]
		}
	}
	return set, remove
}

// deniedCaller returns the principal of an admin_policy_lock statement
// that matches the caller, or "".
func (a *applier) deniedCaller(s settings.Statement) string {
	principals := s.Principal["AWS"]
	// The statement's exception of the tool's role (ArnNotLike
	// aws:PrincipalArn) makes a Deny of the whole account safe for it.
	var patterns []string
	for op, keys := range s.Condition {
		if strings.EqualFold(op, "ArnNotLike") {
			patterns = append(patterns, keys["aws:principalarn"]...)
		}
	}
	excepted := plan.Excepted(a.id.ARN, patterns)
	for _, p := range principals {
		if p == a.id.PrincipalARN || p == a.id.ARN {
			return p
		}
		if plan.CallerDenied(a.id.ARN, []string{p}) && (!excepted || plan.CallerNamed(a.id.ARN, []string{p})) {
			return p
		}
	}
	return ""
}

func overlapError(conflicts []settings.NotificationEntry, ours settings.NotificationEntry) error {
	var names []string
	for _, c := range conflicts {
		names = append(names, settings.DescribeEntry(c))
	}
	return fmt.Errorf("the existing %s overlaps ours (%s), and S3 refuses overlapping configurations; narrow or remove it, or exempt the bucket",
		strings.Join(names, " and "), strings.Join(ours.Events, ", "))
}

// Outcome bookkeeping: each control of a bucket ends applied, held back,
// stale or failed, and the bucket's status is the worst of them.

func (o *Outcome) addErr(err error) {
	var me *multierror.Error
	if o.Err != nil {
		if !errors.As(o.Err, &me) {
			me = multierror.Append(nil, o.Err)
		}
	}
	o.Err = multierror.Append(me, err)
}

// hold records a control held back and why: `bucket "x" (r):
// tls_only held back: static website hosting is on ...`.
func (o *Outcome) hold(c settings.ControlID, why string) {
	o.Held = append(o.Held, c)
	o.HeldBack = append(o.HeldBack, string(c)+" held back: "+why)
	o.addErr(&BucketError{o.Bucket, o.Region, string(c) + " held back", errors.New(why)})
}

func (o *Outcome) stale(c settings.ControlID, why string) {
	o.Stale = append(o.Stale, c)
	o.addErr(&BucketError{o.Bucket, o.Region, string(c) + ": stale", fmt.Errorf("%s; nothing was written to it: %w", why, ErrStale)})
}

func (o *Outcome) fail(controls []settings.ControlID, err error) {
	if errors.Is(err, ErrStale) {
		o.Stale = append(o.Stale, controls...)
		o.addErr(&BucketError{o.Bucket, o.Region, joinControls(controls) + ": stale", err})
		return
	}
	o.Failed = append(o.Failed, controls...)
	o.addErr(&BucketError{o.Bucket, o.Region, joinControls(controls), err})
}

func (o *Outcome) applied(controls ...settings.ControlID) {
	o.Applied = append(o.Applied, controls...)
}

// finish sets the status from the controls' fates: failed, else stale,
// else applied when anything was applied or nothing was left to do, else
// skipped (everything held back). clean is false when the plan reported
// errors for the bucket.
func (o *Outcome) finish(clean bool) {
	switch {
	case len(o.Failed) > 0:
		o.Status = StatusFailed
	case len(o.Stale) > 0:
		o.Status = StatusStale
	case len(o.Applied) > 0:
		o.Status = StatusApplied
	case len(o.Held) > 0 || !clean:
		o.Status = StatusSkipped
	default:
		o.Status = StatusUnchanged
	}
}
