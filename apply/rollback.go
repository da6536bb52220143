package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
		settings.AspectLogging, settings.AspectPolicy, settings.AspectNotifications},
	KindTopic:   {settings.AspectPolicy},
	KindKey:     {settings.AspectPolicy},
	KindAccount: {settings.AspectPublicAccessBlock},
	KindTrail:   {aspectTrail},
}

func canRestore(r Record) bool {
	return slices.Contains(restorable[r.Kind], settings.Aspect(r.Aspect))
}

// PlanRollback lists what a rollback of the journal does, newest first:
// every started record, whether its write was done, failed or never
// finished (a crash may have left it half made), is restored to its
// before-state; records of a kind it cannot restore are skipped. Resources
// the tool created are listed, and never deleted.
func PlanRollback(records []Record) []RollbackStep {
	ends := map[int64]Record{}
	for _, r := range records {
		if r.Started > 0 {
			ends[r.Started] = r
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
	}
	return r.Aspect
}

func describeRestore(r, end Record) string {
	state := "never finished"
	switch end.Status {
	case RecordDone:
		state = "done"
	case RecordFailed:
		state = "failed: " + end.Error
	}
	target := "as it was"
	if isNull(r.Before) {
		switch settings.Aspect(r.Aspect) {
		case aspectTrail:
			target = "to no trail (delete)"
		case settings.AspectPolicy:
			target = "to no policy (delete)"
		case settings.AspectLogging:
			target = "to off"
		case settings.AspectNotifications:
			target = "to no notifications"
		case settings.AspectEncryption:
			target = "to not configured (S3 resets it to SSE-S3: default encryption cannot be turned off since 2023)"
		default:
			target = "to not configured (delete)"
		}
	} else if a := settings.Aspect(r.Aspect); a != settings.AspectPolicy && a != settings.AspectNotifications && a != aspectTrail {
		target = "to " + string(r.Before)
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

// Rollback restores every step's record to its before-state, in the order
// given (PlanRollback's, newest first), journaling its own writes in j like
// apply does, so a rollback can itself be rolled back. A document already
// in its before-state is not written. Bucket and topic policies and
// notification configurations are put back verbatim when nobody else
// changed them since (the document minus what the tool owns is what it was
// before); otherwise only the tool's statements or entry are put back as
// they were, keeping the others' later changes. Of several writes to one
// document only the earliest is restored: its before-state is the
// document's state before the run. The error joins one line per step that
// could not be restored; the others go on.
func Rollback(ctx context.Context, p Provider, steps []RollbackStep, j *Journal) error {
	if j == nil {
		return errors.New("rollback: no journal to record the writes in")
	}
	recs := make([]Record, len(steps))
	for i, s := range steps {
		recs[i] = s.Record
	}
	first := earliest(recs)
	var errs *multierror.Error
	for _, s := range steps {
		r := s.Record
		if r.Status != RecordStarted || !canRestore(r) || first[documentKey(r)] != r.Seq {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("rollback interrupted (%v) before journal seq %d", err, r.Seq))
			break
		}
		var err error
		switch r.Kind {
		case KindTopic:
			err = restoreTopicPolicy(ctx, p, j, r)
		case KindBucket:
			err = restoreBucket(ctx, p, j, r)
		default:
			err = restoreAccount(ctx, p, j, r)
		}
		if err != nil {
			what := fmt.Sprintf("rollback of %s (journal seq %d)", aspectName(r), r.Seq)
			if r.Kind == KindBucket {
				errs = multierror.Append(errs, &BucketError{r.Bucket, r.Region, what, err})
			} else {
				errs = multierror.Append(errs, fmt.Errorf("%s: %s: %s", subject(r), what, oneLine(err)))
			}
		}
	}
	return errs.ErrorOrNil()
}

// undoRecord is the journal record of a rollback write undoing r.
func undoRecord(r Record) Record {
	return Record{Account: r.Account, Kind: r.Kind, Bucket: r.Bucket, Region: r.Region, Aspect: r.Aspect,
		Controls: r.Controls, For: r.For, Target: r.Target, Undoes: r.Seq}
}

// restoreOne is the generic restore of one bucket aspect: decode the
// before-state, read the current value, compute the target, write it
// journaled unless it is already there.
func restoreOne[T any](ctx context.Context, p Provider, j *Journal, r Record, asp settings.Aspect,
	get func(*settings.BucketState) *T,
	target func(cur, before *T) (*T, error),
	same func(cur, target *T) bool,
	put func(context.Context, settings.BucketRef, *T) error,
) error {
	var before *T
	if err := json.Unmarshal(r.Before, &before); err != nil {
		return fmt.Errorf("the journal's before-state cannot be read: %v", err)
	}
	ref := settings.BucketRef{Name: r.Bucket, Region: r.Region}
	cur, err := readAspect(ctx, p, ref, asp, get)
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
	return journaledWrite(ctx, j, undoRecord(r), cur, want, func(ctx context.Context) error { return put(ctx, ref, want) })
}

func verbatim[T any](_, before *T) (*T, error) { return before, nil }

func restoreBucket(ctx context.Context, p Provider, j *Journal, r Record) error {
	switch settings.Aspect(r.Aspect) {
	case settings.AspectPublicAccessBlock:
		return restoreOne(ctx, p, j, r, settings.AspectPublicAccessBlock,
			func(st *settings.BucketState) *settings.PublicAccessBlock { return st.PublicAccessBlock },
			verbatim, equalPtr, p.PutPublicAccessBlock)
	case settings.AspectOwnership:
		return restoreOne(ctx, p, j, r, settings.AspectOwnership,
			func(st *settings.BucketState) *settings.Ownership { return st.Ownership },
			verbatim, equalPtr, p.PutOwnership)
	case settings.AspectEncryption:
		return restoreOne(ctx, p, j, r, settings.AspectEncryption,
			func(st *settings.BucketState) *settings.Encryption { return st.Encryption },
			verbatim,
			func(cur, want *settings.Encryption) bool {
				if want == nil {
					// Not configured cannot come back (S3 resets to
					// SSE-S3); plain SSE-S3 is as close as it gets.
					return cur == nil || (cur.Algorithm == settings.SSES3 && cur.KMSKeyID == "" && !cur.BucketKeyEnabled)
				}
				return cur != nil && cur.Algorithm == want.Algorithm && cur.KMSKeyID == want.KMSKeyID && cur.BucketKeyEnabled == want.BucketKeyEnabled
			},
			p.PutEncryption)
	case settings.AspectLogging:
		return restoreOne(ctx, p, j, r, settings.AspectLogging,
			func(st *settings.BucketState) *settings.Logging { return st.Logging },
			verbatim,
			func(cur, want *settings.Logging) bool { return equalPtr(normalLogging(cur), normalLogging(want)) },
			p.PutLogging)
	case settings.AspectPolicy:
		return restoreOne(ctx, p, j, r, settings.AspectPolicy,
			func(st *settings.BucketState) *settings.Policy { return st.Policy },
			restorePolicyTarget, samePolicyText, p.PutPolicy)
	case settings.AspectNotifications:
		return restoreOne(ctx, p, j, r, settings.AspectNotifications,
			func(st *settings.BucketState) *settings.Notifications { return st.Notifications },
			restoreNotificationsTarget, sameJSON[settings.Notifications], p.PutNotifications)
	}
	return fmt.Errorf("cannot restore aspect %q", r.Aspect)
}

// othersDigest is the state digest of one aspect of a bucket: the
// document minus what the tool owns, normalised (plan.StateDigest).
func othersDigest(st settings.BucketState, asp settings.Aspect) string {
	st.Observed = []settings.Aspect{asp}
	return plan.StateDigest(st)
}

// restorePolicyTarget is the before-policy verbatim when nobody else changed
// the policy since; otherwise the current policy with the tool's statements
// put back as they were before.
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
	for _, sid := range []string{settings.SidDenyInsecureTransport, settings.SidDenyAdminPolicyChanges, settings.SidServerAccessLogs, settings.SidAllowS3Publish,
		settings.SidCloudTrailAclCheck, settings.SidCloudTrailWrite, settings.SidCloudTrailKey} {
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

// restoreTopicPolicy puts a topic's policy back; a topic always has a
// policy, so a before-state with none has the tool's statement removed.
func restoreTopicPolicy(ctx context.Context, p Provider, j *Journal, r Record) error {
	var beforeText *string
	if err := json.Unmarshal(r.Before, &beforeText); err != nil {
		return fmt.Errorf("the journal's before-state cannot be read: %v", err)
	}
	t, err := p.Topic(ctx, r.Target)
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
	return journaledWrite(ctx, j, undoRecord(r), topicText(cur), want.Raw, func(ctx context.Context) error {
		return p.PutTopicPolicy(ctx, r.Target, want.Raw)
	})
}
