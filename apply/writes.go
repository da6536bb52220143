package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// rmw is the read-modify-write of one aspect of a bucket. Under the
// bucket's lock it re-reads the aspect, asks next what to write given the
// current value (or to skip, when it is already in place; or an error,
// ErrStale among them, when it must not be written), and makes the write
// journaled with that current value as its before-state. It returns the
// number of writes made (0 or 1).
func rmw[T any](ctx context.Context, a *applier, ref settings.BucketRef, asp settings.Aspect, rec Record,
	get func(*settings.BucketState) *T,
	next func(cur *T) (want *T, skip bool, err error),
	put func(context.Context, *T) error,
) (int, error) {
	unlock := a.locks.lock("bucket:" + ref.Name)
	defer unlock()
	cur, err := readAspect(ctx, a.p, ref, asp, get)
	if err != nil {
		return 0, err
	}
	want, skip, err := next(cur)
	if err != nil || skip {
		return 0, err
	}
	if err := a.write(ctx, rec, cur, want, func(ctx context.Context) error { return put(ctx, want) }); err != nil {
		return 0, err
	}
	return 1, nil
}

// readAspect reads one aspect of a bucket now.
func readAspect[T any](ctx context.Context, p Provider, ref settings.BucketRef, asp settings.Aspect, get func(*settings.BucketState) *T) (*T, error) {
	st := p.ObserveBucket(ctx, ref, []settings.Aspect{asp})
	if msg, failed := st.Errors[asp]; failed {
		return nil, errors.New(msg)
	}
	if !st.Has(asp) {
		return nil, fmt.Errorf("the bucket's %s was not read", asp)
	}
	return get(&st), nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// staleError says which part of a document differs from what the plan saw.
func staleError(what string, cur any) error {
	return fmt.Errorf("%s is now %s, not what the plan saw; nothing was written: %w", what, describeValue(cur), ErrStale)
}

// staleChanged says that a part of a document the plan pinned changed.
func staleChanged(what string) error {
	return fmt.Errorf("%s changed since the plan was made; nothing was written: %w", what, ErrStale)
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "absent"
	}
	return string(b)
}

// bucketWrites makes one bucket's writes, each compared and swapped
// against the plan's before-state of its controls.
type bucketWrites struct {
	a   *applier
	ref settings.BucketRef
	bp  plan.BucketPlan
	cs  *changeSet
	out *Outcome
	// st is the bucket as observed again before the run's first write
	// (what its changes depend on); each write compares and swaps against
	// a read of its own.
	st settings.BucketState
}

func (w *bucketWrites) record(asp settings.Aspect, controls []settings.ControlID) Record {
	return w.a.bucketRecord(w.ref, asp, controls)
}

// before decodes the plan's before-state of control c.
func before[T any](w *bucketWrites, c settings.ControlID) (*T, error) {
	var v *T
	if err := json.Unmarshal(w.cs.byControl[c].Before, &v); err != nil {
		return nil, fmt.Errorf("the plan's before value cannot be read: %v", err)
	}
	return v, nil
}

// whole is the compare and swap of a document one control owns whole:
// written when it is still the plan's before, skipped when it is already
// the plan's after, stale otherwise.
func whole[T any](w *bucketWrites, c settings.ControlID, asp settings.Aspect, want *T,
	get func(*settings.BucketState) *T, same func(a, b *T) bool, put func(context.Context, settings.BucketRef, *T) error) func(context.Context, []settings.ControlID) (int, error) {
	return func(ctx context.Context, controls []settings.ControlID) (int, error) {
		prior, err := before[T](w, c)
		if err != nil {
			return 0, err
		}
		n, err := rmw(ctx, w.a, w.ref, asp, w.record(asp, controls), get,
			func(cur *T) (*T, bool, error) {
				switch {
				case same(cur, want):
					return nil, true, nil
				case !same(cur, prior):
					return nil, false, staleError("the bucket's "+string(asp), cur)
				}
				return want, false, nil
			},
			func(ctx context.Context, v *T) error { return put(ctx, w.ref, v) })
		if err == nil {
			w.out.applied(controls...)
		}
		return n, err
	}
}

func (w *bucketWrites) publicAccessBlock(ctx context.Context, controls []settings.ControlID) (int, error) {
	return whole(w, settings.BlockPublicAccess, settings.AspectPublicAccessBlock, w.cs.pab,
		func(st *settings.BucketState) *settings.PublicAccessBlock { return st.PublicAccessBlock },
		equalPtr[settings.PublicAccessBlock], w.a.p.PutPublicAccessBlock)(ctx, controls)
}

// versioning turns versioning on. MFA delete is part of the compared value
// (the plan copied it from before) so that a bucket whose MFA delete was
// switched since the plan is stale rather than refused by S3.
func (w *bucketWrites) versioning(ctx context.Context, controls []settings.ControlID) (int, error) {
	return whole(w, settings.Versioning, settings.AspectVersioning, w.cs.versioning,
		func(st *settings.BucketState) *settings.VersioningConfig { return st.Versioning },
		equalPtr[settings.VersioningConfig], w.a.p.PutVersioning)(ctx, controls)
}

func (w *bucketWrites) ownership(ctx context.Context, controls []settings.ControlID) (int, error) {
	return whole(w, settings.ObjectOwnership, settings.AspectOwnership, w.cs.ownership,
		func(st *settings.BucketState) *settings.Ownership { return st.Ownership },
		equalPtr[settings.Ownership], w.a.p.PutOwnership)(ctx, controls)
}

// encryption writes default_encryption and block_sse_c as one rule: each
// owns its part (the algorithm, key and Bucket Key; the blocked encryption
// types), and the rest of the rule is what the plan saw. A key the plan
// found missing is created first (once per region) when
// settings.encryption.create_key allows it.
func (w *bucketWrites) encryption(ctx context.Context, controls []settings.ControlID) (int, error) {
	var prior *settings.Encryption
	for _, c := range controls {
		b, err := before[settings.Encryption](w, c)
		if err != nil {
			return 0, err
		}
		if c != controls[0] && !settings.SameRule(b, prior) {
			return 0, errors.New("the plan's controls disagree on the rule's before value")
		}
		prior = b
	}
	algo := w.cs.encryption
	if algo != nil && algo.KMSKeyID != "" && algo.KeyARN == "" && isKMSRule(algo) {
		info, err := w.a.ensureKey(ctx, w.ref.Region, algo.KMSKeyID)
		if err != nil {
			return 0, err
		}
		e := *algo
		e.KMSKeyID, e.KeyARN = info.ARN, info.ARN
		algo = &e
	}
	want := mergeRule(prior, algo, w.cs.sseC)
	n, err := rmw(ctx, w.a, w.ref, settings.AspectEncryption, w.record(settings.AspectEncryption, controls),
		func(st *settings.BucketState) *settings.Encryption { return st.Encryption },
		func(cur *settings.Encryption) (*settings.Encryption, bool, error) {
			switch {
			case sameEncryption(cur, want):
				return nil, true, nil
			case !settings.SameRule(cur, prior):
				return nil, false, staleError("the bucket's default encryption rule", cur)
			}
			return want, false, nil
		},
		func(ctx context.Context, v *settings.Encryption) error { return w.a.p.PutEncryption(ctx, w.ref, v) })
	if err == nil {
		w.out.applied(controls...)
	}
	return n, err
}

// mergeRule is the rule the plan saw (prior) with default_encryption's
// algorithm, key and Bucket Key (algo) and block_sse_c's blocked
// encryption types (sseC) put in; either may be nil.
func mergeRule(prior, algo, sseC *settings.Encryption) *settings.Encryption {
	out := settings.Encryption{Algorithm: settings.SSES3}
	if prior != nil {
		out = *prior
		out.BlockedEncryptionTypes = slices.Clone(prior.BlockedEncryptionTypes)
	}
	out.KeyARN, out.KeyManager = "", ""
	if algo != nil {
		out.Algorithm, out.KMSKeyID, out.BucketKeyEnabled, out.KeyARN = algo.Algorithm, algo.KMSKeyID, algo.BucketKeyEnabled, algo.KeyARN
	}
	if sseC != nil {
		out.BlockedEncryptionTypes = slices.Clone(sseC.BlockedEncryptionTypes)
	}
	return &out
}

func isKMSRule(e *settings.Encryption) bool {
	return e.Algorithm == settings.SSEKMS || e.Algorithm == settings.SSEKMSDSS
}

// sameEncryption compares the rule S3 stores; the key matches by its text
// or by its resolved ARN.
func sameEncryption(cur, want *settings.Encryption) bool {
	if cur == nil || want == nil {
		return cur == nil && want == nil
	}
	c := *cur
	if c.KeyARN != "" && c.KeyARN == want.KeyARN {
		c.KMSKeyID = want.KMSKeyID
	}
	return settings.SameRule(&c, want)
}

// logging makes sure the region's log bucket exists and lets log delivery
// write to it, then turns logging on: S3 refuses a logging configuration
// whose target does not grant delivery (aws-semantics §2).
func (w *bucketWrites) logging(ctx context.Context, controls []settings.ControlID) (int, error) {
	want := w.cs.logging
	prior, err := before[settings.Logging](w, settings.AccessLogging)
	if err != nil {
		return 0, err
	}
	writes := 0
	if want != nil && w.st.Has(settings.AspectLogging) {
		// Check first, on what was read before the run's first write, so a
		// bucket stale then does not get a grant made for it (the compare
		// and swap below reads it again).
		cur := w.st.Logging
		if settings.SameLogging(cur, want) {
			w.out.applied(controls...)
			return 0, nil
		}
		if !settings.SameLogging(cur, prior) {
			return 0, staleError("the bucket's server access logging", cur)
		}
	}
	if want != nil {
		target := settings.BucketRef{Name: want.TargetBucket, Region: w.ref.Region}
		if err := w.a.ensureLogTarget(ctx, target); err != nil {
			return 0, err
		}
		n, err := w.a.writeLogGrant(ctx, w.ref, target, want.TargetPrefix)
		writes += n
		if err != nil {
			return writes, fmt.Errorf("grant log delivery on s3://%s: %w", target.Name, err)
		}
	}
	n, err := whole(w, settings.AccessLogging, settings.AspectLogging, want,
		func(st *settings.BucketState) *settings.Logging { return st.Logging },
		settings.SameLogging,
		w.a.p.PutLogging)(ctx, controls)
	return writes + n, err
}

// othersUnchanged reports whether the part of a document that is not the
// tool's is what the plan saw (its aspect digest leaves our statements and
// entry out); true when the plan did not pin it.
func (w *bucketWrites) othersUnchanged(st settings.BucketState, asp settings.Aspect) bool {
	want, ok := w.bp.AspectDigests[asp]
	st.Name, st.Region = w.ref.Name, w.ref.Region
	return !ok || plan.AspectDigest(st, asp) == want
}

// policy writes tls_only and admin_policy_lock together, as one
// read-modify-write of the bucket policy. Each control's statement is
// compared with the plan's before: a control whose statement someone
// changed since is stale and its statement is left as it is; the others'
// statements are written. Anyone else's statements changed since make
// both stale.
func (w *bucketWrites) policy(ctx context.Context, controls []settings.ControlID) (int, error) {
	var done, stale []settings.ControlID
	var staleWhy []string
	n, err := rmw(ctx, w.a, w.ref, settings.AspectPolicy, w.record(settings.AspectPolicy, controls),
		func(st *settings.BucketState) *settings.Policy { return st.Policy },
		func(cur *settings.Policy) (*settings.Policy, bool, error) {
			if !w.othersUnchanged(settings.BucketState{Policy: cur}, settings.AspectPolicy) {
				return nil, false, staleChanged("others' statements in the bucket policy")
			}
			var doc *settings.PolicyDocument
			if cur != nil {
				var err error
				if doc, err = settings.ParsePolicy(cur.Raw); err != nil {
					return nil, false, fmt.Errorf("the current bucket policy: %w", err)
				}
			}
			edit := map[settings.ControlID]json.RawMessage{}
			for _, c := range controls {
				ch := w.cs.byControl[c]
				have, haveOK := doc.Owned(policySid(c))
				switch {
				case sameStatement(have, haveOK, ch.After):
					done = append(done, c)
				case sameStatement(have, haveOK, ch.Before):
					edit[c] = w.cs.policy[c]
				default:
					stale = append(stale, c)
					staleWhy = append(staleWhy, fmt.Sprintf("%s: the statement %s is now %s", c, policySid(c), statementText(have, haveOK)))
				}
			}
			if len(edit) == 0 {
				return nil, true, nil
			}
			set, remove := policyEdit(edit)
			merged, err := settings.MergePolicy(cur, set, remove)
			if err != nil {
				return nil, false, err
			}
			for c := range edit {
				done = append(done, c)
			}
			return merged, false, nil
		},
		func(ctx context.Context, v *settings.Policy) error { return w.a.p.PutPolicy(ctx, w.ref, v) })
	if err != nil {
		return n, err
	}
	w.out.applied(done...)
	for i, c := range stale {
		w.out.stale(c, staleWhy[i]+", not what the plan saw")
	}
	return n, nil
}

// sameStatement reports whether the current owned statement (have, or
// none) is the plan's value raw (a statement, or null for none), compared
// as IAM reads them.
func sameStatement(have settings.Statement, ok bool, raw json.RawMessage) bool {
	if isNull(raw) {
		return !ok
	}
	if !ok {
		return false
	}
	want, err := settings.ParseStatement(raw)
	return err == nil && have.Equivalent(want) && have.Sid == want.Sid
}

func statementText(s settings.Statement, ok bool) string {
	if !ok {
		return "absent"
	}
	return strings.Join(strings.Fields(string(s.Raw)), "")
}

// mergeBucketPolicy merges owned statements into a bucket's current policy
// (re-read under the bucket's lock) and writes it unless they are already
// in place. It is for the shared resources (the log bucket's grant), which
// the plan did not judge: only our own statements change, so there is
// nothing of anyone else's to compare.
func (a *applier) mergeBucketPolicy(ctx context.Context, ref settings.BucketRef, rec Record, set map[string]json.RawMessage, remove []string) (int, error) {
	return rmw(ctx, a, ref, settings.AspectPolicy, rec,
		func(st *settings.BucketState) *settings.Policy { return st.Policy },
		func(cur *settings.Policy) (*settings.Policy, bool, error) {
			if ownedInPlace(cur, set, remove) {
				return nil, true, nil
			}
			merged, err := settings.MergePolicy(cur, set, remove)
			return merged, false, err
		},
		func(ctx context.Context, v *settings.Policy) error { return a.p.PutPolicy(ctx, ref, v) })
}

// ownedInPlace reports whether a policy already holds exactly one
// statement equivalent to each of set, and none of remove.
func ownedInPlace(cur *settings.Policy, set map[string]json.RawMessage, remove []string) bool {
	if cur == nil {
		return len(set) == 0
	}
	doc, err := settings.ParsePolicy(cur.Raw)
	if err != nil {
		return false
	}
	count := map[string]int{}
	for _, s := range doc.Statements {
		count[s.Sid]++
	}
	for _, sid := range remove {
		if count[sid] > 0 {
			return false
		}
	}
	for sid, raw := range set {
		want, err := settings.ParseStatement(raw)
		if err != nil || count[sid] != 1 {
			return false
		}
		have, _ := doc.Owned(sid)
		if !have.Equivalent(want) {
			return false
		}
	}
	return true
}

// notifications makes sure the region's topic exists and lets S3 publish
// to it, then merges our entry into the bucket's current notification
// configuration: when our entry is still the plan's before and nobody
// else's changed since.
func (w *bucketWrites) notifications(ctx context.Context, controls []settings.ControlID) (int, error) {
	ours := w.cs.notification
	prior, err := before[settings.NotificationEntry](w, settings.EventNotifications)
	if err != nil {
		return 0, err
	}
	check := func(cur *settings.Notifications) (skip bool, err error) {
		own, ok := cur.Own()
		switch {
		case ours != nil && ok && sameEntry(own, *ours), ours == nil && !ok:
			return true, nil
		case !w.othersUnchanged(settings.BucketState{Notifications: cur}, settings.AspectNotifications):
			return false, staleChanged("others' entries in the bucket's notification configuration")
		case (prior == nil) != !ok || (prior != nil && !sameEntry(own, *prior)):
			var now any
			if ok {
				now = own
			}
			return false, staleError("the notification "+settings.NotificationID, now)
		}
		return false, nil
	}
	writes := 0
	toTopic := ours != nil && ours.Kind == settings.DestTopic
	if toTopic && w.st.Has(settings.AspectNotifications) {
		// Checked first on what was read before the run's first write, so
		// that a bucket stale then gets no grant made for it; the compare
		// and swap below reads it again.
		if skip, err := check(w.st.Notifications); err != nil || skip {
			if err == nil {
				w.out.applied(controls...)
			}
			return 0, err
		}
	}
	if toTopic {
		if err := w.a.ensureTopic(ctx, ours.ARN); err != nil {
			return 0, err
		}
		n, err := w.a.writeTopicGrant(ctx, w.ref, ours.ARN)
		writes += n
		if err != nil {
			return writes, fmt.Errorf("grant S3 publishing on %s: %w", ours.ARN, err)
		}
	}
	n, err := rmw(ctx, w.a, w.ref, settings.AspectNotifications, w.record(settings.AspectNotifications, controls),
		func(st *settings.BucketState) *settings.Notifications { return st.Notifications },
		func(cur *settings.Notifications) (*settings.Notifications, bool, error) {
			if skip, err := check(cur); err != nil || skip {
				return nil, skip, err
			}
			if ours == nil {
				return settings.MergeNotifications(cur, nil), false, nil
			}
			if conflicts := settings.OverlapConflicts(cur, *ours); len(conflicts) > 0 {
				return nil, false, overlapError(conflicts, *ours)
			}
			return settings.MergeNotifications(cur, ours), false, nil
		},
		func(ctx context.Context, v *settings.Notifications) error {
			return w.a.p.PutNotifications(ctx, w.ref, v)
		})
	if err == nil {
		w.out.applied(controls...)
	}
	return writes + n, err
}

// sameEntry compares two notification entries as S3 treats them: events
// and filter rules as sets, rule names in any case.
func sameEntry(a, b settings.NotificationEntry) bool {
	norm := func(e settings.NotificationEntry) settings.NotificationEntry {
		e.Events = slices.Compact(slices.Sorted(slices.Values(e.Events)))
		rules := make([]settings.FilterRule, len(e.Filter))
		for i, r := range e.Filter {
			rules[i] = settings.FilterRule{Name: strings.ToLower(r.Name), Value: r.Value}
		}
		slices.SortFunc(rules, func(x, y settings.FilterRule) int {
			if c := strings.Compare(x.Name, y.Name); c != 0 {
				return c
			}
			return strings.Compare(x.Value, y.Value)
		})
		e.Filter = rules
		return e
	}
	na, nb := norm(a), norm(b)
	return na.ID == nb.ID && na.Kind == nb.Kind && na.ARN == nb.ARN &&
		slices.Equal(na.Events, nb.Events) && slices.Equal(na.Filter, nb.Filter)
}
