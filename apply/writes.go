package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// rmw is the read-modify-write of one aspect of a bucket. Under the
// bucket's lock it re-reads the aspect, asks next what to write given the
// current value (or to skip, when it is already in place), and makes the
// write journaled. It returns the number of writes made (0 or 1).
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

func (a *applier) writePublicAccessBlock(ctx context.Context, ref settings.BucketRef, want *settings.PublicAccessBlock) (int, error) {
	return rmw(ctx, a, ref, settings.AspectPublicAccessBlock,
		a.bucketRecord(ref, settings.AspectPublicAccessBlock, []settings.ControlID{settings.BlockPublicAccess}),
		func(st *settings.BucketState) *settings.PublicAccessBlock { return st.PublicAccessBlock },
		func(cur *settings.PublicAccessBlock) (*settings.PublicAccessBlock, bool, error) {
			return want, equalPtr(cur, want), nil
		},
		func(ctx context.Context, v *settings.PublicAccessBlock) error {
			return a.p.PutPublicAccessBlock(ctx, ref, v)
		})
}

func (a *applier) writeOwnership(ctx context.Context, ref settings.BucketRef, want *settings.Ownership) (int, error) {
	return rmw(ctx, a, ref, settings.AspectOwnership,
		a.bucketRecord(ref, settings.AspectOwnership, []settings.ControlID{settings.ObjectOwnership}),
		func(st *settings.BucketState) *settings.Ownership { return st.Ownership },
		func(cur *settings.Ownership) (*settings.Ownership, bool, error) {
			return want, equalPtr(cur, want), nil
		},
		func(ctx context.Context, v *settings.Ownership) error { return a.p.PutOwnership(ctx, ref, v) })
}

// writeEncryption puts the default encryption rule, with the configured
// key's ARN: a key the plan found missing is created first (once per
// region) when settings.encryption.create_key allows it.
func (a *applier) writeEncryption(ctx context.Context, ref settings.BucketRef, want *settings.Encryption) (int, error) {
	if want != nil && want.KMSKeyID != "" && want.KeyARN == "" &&
		(want.Algorithm == settings.SSEKMS || want.Algorithm == settings.SSEKMSDSS) {
		info, err := a.ensureKey(ctx, ref.Region, want.KMSKeyID)
		if err != nil {
			return 0, err
		}
		w := *want
		w.KMSKeyID, w.KeyARN = info.ARN, info.ARN
		want = &w
	}
	return rmw(ctx, a, ref, settings.AspectEncryption,
		a.bucketRecord(ref, settings.AspectEncryption, []settings.ControlID{settings.DefaultEncryption}),
		func(st *settings.BucketState) *settings.Encryption { return st.Encryption },
		func(cur *settings.Encryption) (*settings.Encryption, bool, error) {
			return want, sameEncryption(cur, want), nil
		},
		func(ctx context.Context, v *settings.Encryption) error { return a.p.PutEncryption(ctx, ref, v) })
}

// sameEncryption compares the rule S3 stores: algorithm, key and Bucket
// Key; the key matches by its text or by its resolved ARN.
func sameEncryption(cur, want *settings.Encryption) bool {
	if cur == nil || want == nil {
		return cur == nil && want == nil
	}
	sameKey := cur.KMSKeyID == want.KMSKeyID || (cur.KeyARN != "" && cur.KeyARN == want.KeyARN)
	return cur.Algorithm == want.Algorithm && cur.BucketKeyEnabled == want.BucketKeyEnabled && sameKey
}

// writeLogging makes sure the region's log bucket exists and lets log
// delivery write to it, then turns logging on: S3 refuses a logging
// configuration whose target does not grant delivery (aws-semantics §2).
func (a *applier) writeLogging(ctx context.Context, ref settings.BucketRef, want *settings.Logging) (int, error) {
	writes := 0
	if want != nil {
		target := settings.BucketRef{Name: want.TargetBucket, Region: ref.Region}
		if err := a.ensureLogTarget(ctx, target); err != nil {
			return 0, err
		}
		rec := a.bucketRecord(target, settings.AspectPolicy, []settings.ControlID{settings.AccessLogging})
		rec.For = ref.Name
		n, err := a.mergeBucketPolicy(ctx, target, rec, map[string]json.RawMessage{
			settings.SidServerAccessLogs: LogDeliveryStatement(target.Name, want.TargetPrefix, a.account),
		}, nil)
		writes += n
		if err != nil {
			return writes, fmt.Errorf("grant log delivery on s3://%s: %w", target.Name, err)
		}
	}
	n, err := rmw(ctx, a, ref, settings.AspectLogging,
		a.bucketRecord(ref, settings.AspectLogging, []settings.ControlID{settings.AccessLogging}),
		func(st *settings.BucketState) *settings.Logging { return st.Logging },
		func(cur *settings.Logging) (*settings.Logging, bool, error) {
			return want, equalPtr(normalLogging(cur), normalLogging(want)), nil
		},
		func(ctx context.Context, v *settings.Logging) error { return a.p.PutLogging(ctx, ref, v) })
	return writes + n, err
}

// normalLogging applies S3's defaults: no key format is simple, a
// partitioned format without a date source is EventTime.
func normalLogging(l *settings.Logging) *settings.Logging {
	if l == nil {
		return nil
	}
	n := *l
	if n.KeyFormat == "" {
		n.KeyFormat = settings.KeyFormatSimple
	}
	if n.KeyFormat == settings.KeyFormatPartitioned && n.PartitionDateSource == "" {
		n.PartitionDateSource = settings.EventTime
	}
	if n.KeyFormat == settings.KeyFormatSimple {
		n.PartitionDateSource = ""
	}
	return &n
}

// writeBucketPolicy writes tls_only and admin_policy_lock together, as one
// read-modify-write of the bucket policy.
func (a *applier) writeBucketPolicy(ctx context.Context, ref settings.BucketRef, controls []settings.ControlID, set map[string]json.RawMessage, remove []string) (int, error) {
	return a.mergeBucketPolicy(ctx, ref, a.bucketRecord(ref, settings.AspectPolicy, controls), set, remove)
}

// mergeBucketPolicy merges owned statements into a bucket's current policy
// (re-read under the bucket's lock) and writes it unless they are already
// in place.
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

// writeNotifications makes sure the region's topic exists and lets S3
// publish to it, then merges our entry into the bucket's current
// notification configuration.
func (a *applier) writeNotifications(ctx context.Context, ref settings.BucketRef, ours *settings.NotificationEntry) (int, error) {
	writes := 0
	if ours != nil && ours.Kind == settings.DestTopic {
		if err := a.ensureTopic(ctx, ours.ARN); err != nil {
			return 0, err
		}
		n, err := a.writeTopicGrant(ctx, ref, ours.ARN)
		writes += n
		if err != nil {
			return writes, fmt.Errorf("grant S3 publishing on %s: %w", ours.ARN, err)
		}
	}
	n, err := rmw(ctx, a, ref, settings.AspectNotifications,
		a.bucketRecord(ref, settings.AspectNotifications, []settings.ControlID{settings.EventNotifications}),
		func(st *settings.BucketState) *settings.Notifications { return st.Notifications },
		func(cur *settings.Notifications) (*settings.Notifications, bool, error) {
			own, ok := cur.Own()
			if ours == nil {
				return settings.MergeNotifications(cur, nil), !ok, nil
			}
			if ok && sameEntry(own, *ours) {
				return nil, true, nil
			}
			if conflicts := settings.OverlapConflicts(cur, *ours); len(conflicts) > 0 {
				return nil, false, overlapError(conflicts, *ours)
			}
			return settings.MergeNotifications(cur, ours), false, nil
		},
		func(ctx context.Context, v *settings.Notifications) error { return a.p.PutNotifications(ctx, ref, v) })
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
