package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// RollbackStep is one entry of a rollback: a started record to restore, or
// a note (a created resource, which is listed and left in place; a damaged
// last journal line).
type RollbackStep struct {
	Record      Record
	Description string
}

// restorable lists the documents rollback knows how to put back.
var restorable = map[string][]settings.Aspect{
	KindBucket: {settings.AspectPublicAccessBlock, settings.AspectOwnership, settings.AspectEncryption,
		settings.AspectLogging, settings.AspectPolicy, settings.AspectNotifications, settings.AspectVersioning},
	KindTopic:   {settings.AspectPolicy},
	KindKey:     {settings.AspectPolicy},
	KindAccount: {settings.AspectPublicAccessBlock},
	KindTrail:   {aspectTrail},
}

func canRestore(r Record) bool {
	return slices.Contains(restorable[r.Kind], settings.Aspect(r.Aspect))
}

// PlanRollback lists what a rollback of the journal does, newest first:
// every started record, whether its write was done, failed, of unknown
// outcome or never finished (a failed or interrupted write may have been
// made, or half made), is restored to its before-state; records of a kind
// it cannot restore are skipped. Resources the tool created are listed,
// and never deleted.
func PlanRollback(records []Record) []RollbackStep {
	ends := map[int64]Record{}
	for _, r := range records {
		switch r.Status {
		case RecordDone, RecordFailed, RecordUnknown:
			if r.Started > 0 {
				ends[r.Started] = r
			}
		}
	}
	first := earliest(records)
	var steps []RollbackStep
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		switch r.Status {
		case RecordStarted:
			if !canRestore(r) {
				continue
			}
			d := describeRestore(r, ends[r.Seq])
			if f := first[documentKey(r)]; f != r.Seq {
				d += fmt.Sprintf("; superseded by journal seq %d, the earliest write to the same document, whose before-state it restores", f)
			}
			steps = append(steps, RollbackStep{Record: r, Description: d})
		case RecordCreated:
			steps = append(steps, RollbackStep{Record: r, Description: describeCreated(r)})
		case RecordDamaged:
			steps = append(steps, RollbackStep{Record: r, Description: "note: " + r.Error + " (the write it was about to record had not started, or its started record is listed here)"})
		}
	}
	return steps
}

// documentKey names the document a record's write replaced.
func documentKey(r Record) string {
	if r.Kind != KindBucket {
		return r.Kind + "|" + r.Account + "|" + r.Region + "|" + r.Target + "|" + r.Aspect
	}
	return r.Kind + "|" + r.Region + "|" + r.Bucket + "|" + r.Aspect
}

// earliest maps each document to the seq of its earliest started record:
// that record's before-state is the document's state before the run, so
// restoring it alone undoes every later write to the document, and the
// later ones need not be written on the way (which also makes a second
// rollback a no-op).
func earliest(records []Record) map[string]int64 {
	m := map[string]int64{}
	for _, r := range records {
		if r.Status != RecordStarted || !canRestore(r) {
			continue
		}
		k := documentKey(r)
		if f, ok := m[k]; !ok || r.Seq < f {
			m[k] = r.Seq
		}
	}
	return m
}

func subject(r Record) string {
	switch r.Kind {
	case KindTopic:
		return "topic " + r.Target
	case KindKey:
		return "KMS key " + r.Target
	case KindAccount:
		return "account " + r.Account
	case KindTrail:
		return fmt.Sprintf("trail %s (%s)", r.Target, r.Region)
	}
	return fmt.Sprintf("bucket %q (%s)", r.Bucket, r.Region)
}

func aspectName(r Record) string {
	switch settings.Aspect(r.Aspect) {
	case settings.AspectPublicAccessBlock:
		return "Block Public Access"
	case settings.AspectOwnership:
		return "Object Ownership"
	case settings.AspectEncryption:
		return "default encryption"
	case settings.AspectLogging:
		return "server access logging"
	case settings.AspectPolicy:
		switch r.Kind {
		case KindTopic:
			return "topic policy"
		case KindKey:
			return "key policy"
		}
		return "bucket policy"
	case aspectTrail:
		return "trail"
	case settings.AspectNotifications:
		return "event notifications"
	case settings.AspectVersioning:
		return "versioning"
	}
	return r.Aspect
}

// outcome is what became of a started record's write, by its end record
// (the zero Record when there is none): RecordDone, it was made;
// RecordFailed or RecordUnknown, it may have been made, in whole or in
// part, or not at all. A started record with no end is RecordUnknown: the
// run stopped while its write was in flight.
func outcome(end Record) string {
	switch end.Status {
	case RecordDone, RecordFailed:
		return end.Status
	}
	return RecordUnknown
}

func describeRestore(r, end Record) string {
	var state string
	switch outcome(end) {
	case RecordDone:
		state = "done"
	case RecordFailed:
		state = "failed: " + end.Error
	default:
		state = "never finished, outcome unknown"
		if end.Status == RecordUnknown {
			state = "outcome unknown"
			if end.Error != "" {
				state += ": " + end.Error
			}
		}
	}
	var target string
	switch a := settings.Aspect(r.Aspect); {
	case a == settings.AspectPolicy:
		target = describePolicyRestore(r)
	case a == settings.AspectNotifications:
		target = describeNotificationRestore(r)
	default:
		to := "to " + compactJSON(r.Before)
		if isNull(r.Before) {
			switch a {
			case aspectTrail:
				to = "to no trail (delete)"
			case settings.AspectLogging:
				to = "to off"
			case settings.AspectEncryption:
				to = "to SSE-S3 without an SSE-C block, the nearest to the rule it did not have (default encryption cannot be turned off since 2023)"
			case settings.AspectVersioning:
				to = "to Suspended (S3 cannot return a bucket to never versioned; objects keep the versions written meanwhile)"
			default:
				to = "to not configured (delete)"
			}
		}
		target = to + ", if it is still " + compactJSON(r.After) + " (what s3baseline wrote); otherwise it is left as it is and named"
	}
	why := ""
	if len(r.Controls) > 0 {
		why = " (" + joinControls(r.Controls)
		if r.For != "" {
			why += " for bucket " + r.For
		}
		why += ")"
	}
	return fmt.Sprintf("%s: restore %s%s %s [journal seq %d, write %s]", subject(r), aspectName(r), why, target, r.Seq, state)
}

// journalPolicy is a journaled policy: a bucket policy record holds a
// settings.Policy, a topic or key record the text itself; nil for none.
func journalPolicy(r Record, raw json.RawMessage) *settings.PolicyDocument {
	var text string
	if r.Kind == KindBucket {
		var p *settings.Policy
		if json.Unmarshal(raw, &p) != nil || p == nil {
			return nil
		}
		text = p.Raw
	} else if json.Unmarshal(raw, &text) != nil || text == "" {
		return nil
	}
	doc, err := settings.ParsePolicy(text)
	if err != nil {
		return nil
	}
	return doc
}

// describePolicyRestore says which of the tool's statements the restore
// removes or puts back, with their content; everyone else's are kept.
func describePolicyRestore(r Record) string {
	before, after := journalPolicy(r, r.Before), journalPolicy(r, r.After)
	var parts []string
	for _, sid := range settings.OwnedSids() {
		b, inBefore := before.Owned(sid)
		a, inAfter := after.Owned(sid)
		switch {
		case inBefore && (!inAfter || !a.Equivalent(b)):
			parts = append(parts, "put back "+sid+" as "+compactJSON(b.Raw))
		case !inBefore && inAfter:
			parts = append(parts, "remove "+sid+" "+compactJSON(a.Raw))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "s3baseline's statements as they were")
	}
	return "by statement: " + strings.Join(parts, "; ") + "; everyone else's statements are kept as they are now (the policy is put back verbatim when none of theirs changed)"
}

// describeNotificationRestore says what happens to our entry.
func describeNotificationRestore(r Record) string {
	var before, after *settings.Notifications
	_ = json.Unmarshal(r.Before, &before)
	_ = json.Unmarshal(r.After, &after)
	b, inBefore := before.Own()
	a, inAfter := after.Own()
	what := "our entry as it was"
	switch {
	case inBefore:
		what = "put back entry " + settings.NotificationID + " as " + compactJSON(mustJSON(b))
	case inAfter:
		what = "remove entry " + settings.NotificationID + " " + compactJSON(mustJSON(a))
	}
	return "by entry: " + what + "; everyone else's entries are kept as they are now"
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func describeCreated(r Record) string {
	var what string
	switch r.Kind {
	case KindBucket:
		what = fmt.Sprintf("bucket %q (%s)", r.Bucket, r.Region)
	case KindKey:
		what = fmt.Sprintf("KMS key %s (%s)", r.Target, r.Region)
	case KindTopic:
		what = "SNS topic " + r.Target
	default:
		what = r.Kind + " " + r.Target
	}
	return fmt.Sprintf("%s was created by s3baseline [journal seq %d]: left in place, rollback never deletes; delete it yourself once nothing uses it", what, r.Seq)
}

// RollbackOptions tune a rollback.
type RollbackOptions struct {
	// Force restores a setting even where someone changed it since the
	// apply (its current value is not what the journal says the tool
	// wrote). Policies and notification configurations are restored by
	// statement and entry either way, so others' statements are kept.
	Force bool
	// Stop, when closed, starts no new restore (see Options.Stop).
	Stop <-chan struct{}
}

// ErrChangedSince is the cause of a restore that was skipped because the
// setting is no longer what the tool wrote: someone changed it since.
var ErrChangedSince = errors.New("changed since the apply")

// Rollback restores every step's record to its before-state, in the order
// given (PlanRollback's, newest first), journaling its own writes in j like
// apply does, so a rollback can itself be rolled back. It is a three-way
// restore: a setting is put back only where its current value is still
// what the journal says the tool wrote (a write's after); where someone
// changed it since, it is skipped and named (ErrChangedSince) unless
// o.Force. Bucket, topic and key policies and notification configurations
// are always restored by statement and entry: the tool's own are removed
// or put back as they were, everyone else's are kept as they are now (when
// nobody else's changed, that is the before-state verbatim). A document
// already in its before-state is not written. Of several writes to one
// document only the earliest is restored: its before-state is the
// document's state before the run. The error joins one line per step that
// could not be restored; the others go on.
func Rollback(ctx context.Context, p Provider, steps []RollbackStep, j *Journal, o RollbackOptions) error {
	if j == nil {
		return errors.New("rollback: no journal to record the writes in")
	}
	recs := make([]Record, len(steps))
	for i, s := range steps {
		recs[i] = s.Record
	}
	first := earliest(recs)
	rb := &rollback{p: p, j: j, force: o.Force, afters: map[string][]json.RawMessage{}}
	for _, r := range recs {
		if r.Status == RecordStarted && canRestore(r) {
			rb.afters[documentKey(r)] = append(rb.afters[documentKey(r)], r.After)
		}
	}
	var errs *multierror.Error
	for _, s := range steps {
		r := s.Record
		if r.Status != RecordStarted || !canRestore(r) || first[documentKey(r)] != r.Seq {
			continue
		}
		if err := stopped(ctx, o.Stop); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("rollback %w (%v) before journal seq %d; roll back from the same journal again to finish", ErrInterrupted, err, r.Seq))
			break
		}
		var err error
		switch r.Kind {
		case KindTopic:
			err = rb.topicPolicy(ctx, r)
		case KindBucket:
			err = rb.bucket(ctx, r)
		default:
			err = rb.account(ctx, r)
		}
		if err != nil {
			what := fmt.Sprintf("rollback of %s (journal seq %d)", aspectName(r), r.Seq)
			if errors.Is(err, ErrChangedSince) {
				what = fmt.Sprintf("%s not restored (journal seq %d)", aspectName(r), r.Seq)
			}
			if r.Kind == KindBucket {
				errs = multierror.Append(errs, &BucketError{r.Bucket, r.Region, what, err})
			} else {
				errs = multierror.Append(errs, fmt.Errorf("%s: %s: %s", subject(r), what, oneLine(err)))
			}
		}
	}
	return errs.ErrorOrNil()
}

// rollback is one Rollback run.
type rollback struct {
	p     Provider
	j     *Journal
	force bool
	// afters are, per document, the after-states of every journaled write
	// to it: the values the tool wrote.
	afters map[string][]json.RawMessage
}

// undoRecord is the journal record of a rollback write undoing r.
func undoRecord(r Record) Record {
	return Record{Account: r.Account, Kind: r.Kind, Bucket: r.Bucket, Region: r.Region, Aspect: r.Aspect,
		Controls: r.Controls, For: r.For, Target: r.Target, Undoes: r.Seq}
}

// written reports whether cur is a value the tool wrote to r's document.
func written[T any](rb *rollback, r Record, cur *T, same func(a, b *T) bool) bool {
	for _, raw := range rb.afters[documentKey(r)] {
		var after *T
		if json.Unmarshal(raw, &after) == nil && same(cur, after) {
			return true
		}
	}
	return false
}

// threeWay decides a whole document's restore: nothing to do when it is
// already the before-state; restore when it is what the tool wrote (or
// with force); otherwise ErrChangedSince, naming the current value.
func threeWay[T any](rb *rollback, r Record, cur, before *T, same func(a, b *T) bool) (restore bool, err error) {
	switch {
	case same(cur, before):
		return false, nil
	case written(rb, r, cur, same) || rb.force:
		return true, nil
	}
	return false, fmt.Errorf("it is now %s, not what s3baseline wrote, so it is left as it is (rollback --force restores it anyway): %w", describeValue(cur), ErrChangedSince)
}

// beforeAndNow is a record's before-state and the aspect's current value.
func beforeAndNow[T any](ctx context.Context, rb *rollback, r Record, ref settings.BucketRef, asp settings.Aspect,
	get func(*settings.BucketState) *T,
) (before, cur *T, err error) {
	if err := json.Unmarshal(r.Before, &before); err != nil {
		return nil, nil, fmt.Errorf("the journal's before-state cannot be read: %v", err)
	}
	cur, err = readAspect(ctx, rb.p, ref, asp, get)
	return before, cur, err
}

// restoreWhole is the three-way restore of one bucket aspect the tool
// owns whole (Block Public Access, ownership, encryption, logging).
func restoreWhole[T any](ctx context.Context, rb *rollback, r Record, asp settings.Aspect,
	get func(*settings.BucketState) *T, same func(a, b *T) bool,
	put func(context.Context, settings.BucketRef, *T) error, absent *T,
) error {
	ref := settings.BucketRef{Name: r.Bucket, Region: r.Region}
	before, cur, err := beforeAndNow(ctx, rb, r, ref, asp, get)
	if err != nil {
		return err
	}
	if restore, err := threeWay(rb, r, cur, before, same); !restore || err != nil {
		return err
	}
	want := before
	if want == nil && absent != nil {
		want = absent
	}
	return journaledWrite(ctx, rb.j, undoRecord(r), cur, want, func(ctx context.Context) error { return put(ctx, ref, want) })
}

// restoreMerged is the restore of a document shared with others (a
// policy, a notification configuration): the target is computed from the
// current document, keeping everyone else's part.
func restoreMerged[T any](ctx context.Context, rb *rollback, r Record, asp settings.Aspect,
	get func(*settings.BucketState) *T,
	target func(cur, before *T) (*T, error),
	same func(cur, target *T) bool,
	put func(context.Context, settings.BucketRef, *T) error,
) error {
	ref := settings.BucketRef{Name: r.Bucket, Region: r.Region}
	before, cur, err := beforeAndNow(ctx, rb, r, ref, asp, get)
	if err != nil {
		return err
	}
	want, err := target(cur, before)
	if err != nil {
		return err
	}
	if same(cur, want) {
		return nil
	}
	return journaledWrite(ctx, rb.j, undoRecord(r), cur, want, func(ctx context.Context) error { return put(ctx, ref, want) })
}

func (rb *rollback) bucket(ctx context.Context, r Record) error {
	p := rb.p
	switch settings.Aspect(r.Aspect) {
	case settings.AspectPublicAccessBlock:
		return restoreWhole(ctx, rb, r, settings.AspectPublicAccessBlock,
			func(st *settings.BucketState) *settings.PublicAccessBlock { return st.PublicAccessBlock },
			equalPtr, p.PutPublicAccessBlock, nil)
	case settings.AspectOwnership:
		return restoreWhole(ctx, rb, r, settings.AspectOwnership,
			func(st *settings.BucketState) *settings.Ownership { return st.Ownership },
			equalPtr, p.PutOwnership, nil)
	case settings.AspectEncryption:
		return restoreWhole(ctx, rb, r, settings.AspectEncryption,
			func(st *settings.BucketState) *settings.Encryption { return st.Encryption },
			func(cur, want *settings.Encryption) bool {
				if want == nil {
					return cur == nil || sameEncryption(cur, noRule())
				}
				return sameEncryption(cur, want)
			},
			p.PutEncryption, noRule())
	case settings.AspectLogging:
		return restoreWhole(ctx, rb, r, settings.AspectLogging,
			func(st *settings.BucketState) *settings.Logging { return st.Logging },
			settings.SameLogging,
			p.PutLogging, nil)
	case settings.AspectPolicy:
		return restoreMerged(ctx, rb, r, settings.AspectPolicy,
			func(st *settings.BucketState) *settings.Policy { return st.Policy },
			restorePolicyTarget, samePolicyText, p.PutPolicy)
	case settings.AspectVersioning:
		// S3 cannot take a bucket back to "never versioned": a bucket
		// that was not versioned before is suspended, which is as off as
		// S3 allows. One that was Enabled before was never written.
		return restoreWhole(ctx, rb, r, settings.AspectVersioning,
			func(st *settings.BucketState) *settings.VersioningConfig { return st.Versioning },
			sameVersioning, p.PutVersioning, &settings.VersioningConfig{Status: settings.VersioningSuspended})
	case settings.AspectNotifications:
		return restoreMerged(ctx, rb, r, settings.AspectNotifications,
			func(st *settings.BucketState) *settings.Notifications { return st.Notifications },
			restoreNotificationsTarget, sameJSON[settings.Notifications], p.PutNotifications)
	}
	return fmt.Errorf("cannot restore aspect %q", r.Aspect)
}

// noRule is what a bucket that had no encryption rule gets back: SSE-S3,
// which S3 applies to every bucket since 2023 and which no call can take
// away, and no BlockedEncryptionTypes, so SSE-C is allowed as it was
// without a rule. DeleteBucketEncryption would say nothing certain of
// SSE-C (the docs are silent on the block after a delete).
func noRule() *settings.Encryption { return &settings.Encryption{Algorithm: settings.SSES3} }

// othersDigest is the state digest of one aspect of a bucket: the
// document minus what the tool owns, normalised (plan.StateDigest).
func othersDigest(st settings.BucketState, asp settings.Aspect) string {
	return plan.AspectDigest(st, asp)
}

// restorePolicyTarget restores a policy by statement: the before-policy
// verbatim when nobody else's statements changed since; otherwise the
// current policy with the tool's statements put back as they were before
// (removed where there were none), everyone else's kept as they are now.
func restorePolicyTarget(cur, before *settings.Policy) (*settings.Policy, error) {
	if othersDigest(settings.BucketState{Policy: cur}, settings.AspectPolicy) ==
		othersDigest(settings.BucketState{Policy: before}, settings.AspectPolicy) {
		return before, nil
	}
	var bdoc *settings.PolicyDocument
	if before != nil {
		var err error
		if bdoc, err = settings.ParsePolicy(before.Raw); err != nil {
			return nil, fmt.Errorf("the policy was changed by someone else since, and its before-state cannot be read to put back only s3baseline's statements: %v", err)
		}
	}
	set := map[string]json.RawMessage{}
	var remove []string
	for _, sid := range settings.OwnedSids() {
		if s, ok := bdoc.Owned(sid); ok {
			set[sid] = s.Raw
		} else {
			remove = append(remove, sid)
		}
	}
	return settings.MergePolicy(cur, set, remove)
}

// samePolicyText: a rollback rewrites a policy unless it is byte for byte
// the target, so that a verbatim restore is exact.
func samePolicyText(cur, want *settings.Policy) bool {
	if cur == nil || want == nil {
		return cur == nil && want == nil
	}
	return cur.Raw == want.Raw
}

// restoreNotificationsTarget is the before-configuration verbatim when
// nothing foreign changed since; otherwise the current one with our entry
// restored as it was (or removed when there was none).
func restoreNotificationsTarget(cur, before *settings.Notifications) (*settings.Notifications, error) {
	if othersDigest(settings.BucketState{Notifications: cur}, settings.AspectNotifications) ==
		othersDigest(settings.BucketState{Notifications: before}, settings.AspectNotifications) {
		return before, nil
	}
	own, ok := before.Own()
	if !ok {
		return settings.MergeNotifications(cur, nil), nil
	}
	return settings.MergeNotifications(cur, &own), nil
}

func sameJSON[T any](a, b *T) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// topicPolicy puts a topic's policy back by statement; a topic always has
// a policy, so a before-state with none has the tool's statement removed.
func (rb *rollback) topicPolicy(ctx context.Context, r Record) error {
	var beforeText *string
	if err := json.Unmarshal(r.Before, &beforeText); err != nil {
		return fmt.Errorf("the journal's before-state cannot be read: %v", err)
	}
	t, err := rb.p.Topic(ctx, r.Target)
	if err != nil {
		return err
	}
	if !t.Exists {
		return errors.New("the topic no longer exists")
	}
	cur := topicPolicy(t)
	var before *settings.Policy
	if beforeText != nil && *beforeText != "" {
		before = &settings.Policy{Raw: *beforeText}
	}
	want, err := restorePolicyTarget(cur, before)
	if err != nil {
		return err
	}
	if want == nil {
		// Nothing would remain: SNS has no "no policy"; keep the others'
		// (empty) document by putting back the before text if there is
		// one, else refuse.
		if before == nil {
			return errors.New("the topic had no policy before, and SNS cannot delete a topic policy; remove the statement " + settings.SidAllowS3Publish + " by hand")
		}
		want = before
	}
	if samePolicyText(cur, want) {
		return nil
	}
	return journaledWrite(ctx, rb.j, undoRecord(r), topicText(cur), want.Raw, func(ctx context.Context) error {
		return rb.p.PutTopicPolicy(ctx, r.Target, want.Raw)
	})
}

// account puts an account-level record's before-state back: the account's
// Block Public Access and the trail three-way, the trail key's policy by
// statement.
func (rb *rollback) account(ctx context.Context, r Record) error {
	p, j := rb.p, rb.j
	switch r.Kind {
	case KindAccount:
		var before *settings.PublicAccessBlock
		if err := json.Unmarshal(r.Before, &before); err != nil {
			return fmt.Errorf("the journal's before-state cannot be read: %v", err)
		}
		cur, err := p.AccountPublicAccessBlock(ctx)
		if err != nil {
			return err
		}
		if restore, err := threeWay(rb, r, cur, before, equalPtr[settings.PublicAccessBlock]); !restore || err != nil {
			return err
		}
		return journaledWrite(ctx, j, undoRecord(r), cur, before, func(ctx context.Context) error {
			return p.PutAccountPublicAccessBlock(ctx, before)
		})
	case KindTrail:
		var before *settings.Trail
		if err := json.Unmarshal(r.Before, &before); err != nil {
			return fmt.Errorf("the journal's before-state cannot be read: %v", err)
		}
		cur, err := p.Trail(ctx, r.Region, r.Target)
		if err != nil {
			return err
		}
		same := func(a, b *settings.Trail) bool { return sameJSON(comparableTrail(a), comparableTrail(b)) }
		if restore, err := threeWay(rb, r, cur, before, same); !restore || err != nil {
			return err
		}
		return journaledWrite(ctx, j, undoRecord(r), cur, before, func(ctx context.Context) error {
			if before == nil {
				return p.DeleteTrail(ctx, r.Region, r.Target)
			}
			return p.PutTrail(ctx, *before)
		})
	case KindKey:
		var beforeText string
		if err := json.Unmarshal(r.Before, &beforeText); err != nil {
			return fmt.Errorf("the journal's before-state cannot be read: %v", err)
		}
		text, err := p.KeyPolicy(ctx, r.Region, r.Target)
		if err != nil {
			return err
		}
		want, err := restorePolicyTarget(&settings.Policy{Raw: text}, &settings.Policy{Raw: beforeText})
		if err != nil {
			return err
		}
		if want == nil {
			// A key always has a policy: nothing of others' would remain,
			// so the before text (which had none of ours) is the target.
			want = &settings.Policy{Raw: beforeText}
		}
		if want.Raw == text {
			return nil
		}
		return journaledWrite(ctx, j, undoRecord(r), text, want.Raw, func(ctx context.Context) error {
			return p.PutKeyPolicy(ctx, r.Region, r.Target, want.Raw)
		})
	}
	return fmt.Errorf("cannot restore kind %q", r.Kind)
}

// sameVersioning compares versioning as S3 can restore it: never enabled
// and Suspended are both off.
func sameVersioning(a, b *settings.VersioningConfig) bool {
	off := func(v *settings.VersioningConfig) settings.VersioningConfig {
		if v == nil {
			return settings.VersioningConfig{Status: settings.VersioningSuspended}
		}
		return *v
	}
	return off(a) == off(b)
}
