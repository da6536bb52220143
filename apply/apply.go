package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/progress"
	"github.com/s3baseline/s3baseline/settings"
)

// DefaultConcurrency is how many buckets are applied at once by default.
const DefaultConcurrency = 16

// Outcome statuses.
const (
	// StatusApplied: every change not held back is in place.
	StatusApplied = "applied"
	// StatusStale: the bucket changed since the plan was made; nothing was
	// written to it.
	StatusStale = "stale"
	// StatusFailed: a precondition refused the bucket (nothing written) or
	// a write failed (the writes before it stand, the ones after it were
	// not attempted).
	StatusFailed = "failed"
	// StatusSkipped: nothing was attempted, on purpose: every pending
	// change was held back for its impact, the plan reported errors for
	// the bucket, or the run was interrupted before reaching it.
	StatusSkipped = "skipped"
	// StatusUnchanged: the plan has nothing to do for the bucket.
	StatusUnchanged = "unchanged"
)

// Options are an apply run's inputs.
type Options struct {
	// Config is the configuration the plan was made with (the plan
	// carries it as Scope.Settings, which is used when this is nil).
	Config *baselines.Config
	// Journal receives a record before and after every write. Required.
	Journal *Journal
	// Concurrency bounds the buckets applied at once; 0 is
	// DefaultConcurrency.
	Concurrency int
	// AllowImpact applies changes the plan says would break how a bucket
	// is used today (plan.Change.Impact); without it they are held back.
	AllowImpact bool
	// Now is the clock (config rules' until dates); nil is time.Now.
	Now func() time.Time
	// Progress, when set, is called once with done 0 before the first
	// bucket and again after each bucket of the plan is finished: done of
	// total buckets, errors of them failed, stale or skipped for the
	// plan's errors. Calls come one at a time, in order of done, from the
	// worker goroutines; the callback should return quickly.
	Progress func(done, total, errors int)
}

// Outcome is what happened to one bucket, or to one account change
// (Control set, Bucket empty).
type Outcome struct {
	Account string
	Bucket  string
	Region  string
	// Control is the account control of an account change's outcome.
	Control settings.ControlID
	Status  string
	// Writes counts the writes made for the bucket, those to shared
	// resources on its behalf (the log bucket's and the topic's grants)
	// included.
	Writes int
	// Err says why the bucket is failed, stale or skipped; its
	// ErrorCode is the AWS error code when AWS refused a write.
	Err error
	// HeldBack lists the changes not applied for their impact, each with
	// why ("block_public_access: ...").
	HeldBack []string
	// Held are the controls of HeldBack, in the same order.
	Held []settings.ControlID
}

// BucketError is one bucket's failure: `bucket "x" (eu-west-1):
// default_encryption: put bucket encryption: AccessDenied: Access Denied`.
type BucketError struct {
	Bucket, Region string
	// What is the control(s) or the stage that failed ("stale",
	// "refused: event_notifications").
	What string
	Err  error
}

func (e *BucketError) Error() string {
	return fmt.Sprintf("bucket %q (%s): %s: %s", e.Bucket, e.Region, e.What, oneLine(e.Err))
}

func (e *BucketError) Unwrap() error { return e.Err }

// ErrStale is the cause of every stale bucket's error.
var ErrStale = errors.New("its state changed since the plan was made; run plan again")

// ErrPlanErrors is the cause of the error of a bucket skipped because the
// plan reports errors for it; such a bucket counts as an error of the run.
var ErrPlanErrors = errors.New("the plan reports errors for this bucket")

// Apply carries out the plan's bucket changes and reports each bucket's
// outcome, in plan order (buckets the tool created on the way, such as a
// region's log bucket, are appended). The error joins, one line each, every
// failed or stale bucket and every bucket skipped for the plan's errors
// (ErrPlanErrors); the other buckets go on when one fails. A change held
// back for its impact is not an error: the outcome says what and why.
//
// For each bucket with pending changes and no plan errors, in a bounded
// pool: re-observe exactly the aspects the plan observed and skip the
// bucket as stale when its state digest differs; check every precondition
// (a foreign notification that overlaps ours, a merged policy over AWS's
// size limit, an admin lock that would deny the caller, an After that
// cannot be read) before the first write and refuse the whole bucket when
// one fails; then write one aspect at a time, prerequisites first, each a
// read-modify-write under the document's lock, journaled before and after.
func Apply(ctx context.Context, p Provider, pl *plan.Plan, o Options) ([]Outcome, error) {
	if o.Journal == nil {
		return nil, errors.New("apply: no journal to record the writes in")
	}
	cfg := o.Config
	if cfg == nil {
		cfg = pl.Scope.Settings
	}
	if cfg == nil {
		return nil, errors.New("apply: the plan carries no settings and none were given")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	id, err := p.Identity(ctx)
	if err != nil {
		return nil, err
	}
	if pl.Account != "" && id.Account != pl.Account {
		return nil, fmt.Errorf("the plan is for account %s but the credentials are for account %s", pl.Account, id.Account)
	}
	a := &applier{
		p: p, pl: pl, o: o, cfg: cfg, now: now, id: id, account: id.Account,
		locks: lockMap{m: map[string]*sync.Mutex{}},
	}

	outcomes := make([]Outcome, len(pl.Buckets))
	workers := o.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	counter := progress.NewCounter(o.Progress, len(pl.Buckets))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(pl.Buckets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				outcomes[i] = a.bucket(ctx, pl.Buckets[i])
				counter.Add(outcomes[i].isError())
			}
		}()
	}
feed:
	for i := range pl.Buckets {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()

	var errs *multierror.Error
	notStarted := 0
	for i := range outcomes {
		o := &outcomes[i]
		if o.Status == "" {
			b := pl.Buckets[i]
			*o = Outcome{Account: a.account, Bucket: b.Name, Region: b.Region, Status: StatusSkipped,
				Err: &BucketError{b.Name, b.Region, "not started", ctx.Err()}}
			notStarted++
		}
	}
	// Account changes come after every bucket (see account.go); the
	// buckets the tool created on the way, for a bucket or for the trail,
	// are reported after the plan's buckets, the account changes last.
	account := a.accountChanges(ctx)
	outcomes = append(outcomes, a.extra...)
	outcomes = append(outcomes, account...)
	for _, o := range outcomes {
		if o.isError() {
			errs = multierror.Append(errs, o.Err)
		}
	}
	if err := ctx.Err(); err != nil && notStarted > 0 {
		errs = multierror.Append(errs, fmt.Errorf("apply interrupted (%v): %d buckets not started; run plan and apply again to finish", err, notStarted))
	}
	return outcomes, errs.ErrorOrNil()
}

// isError reports whether the outcome is an error of the run: a failed or
// stale bucket, or one skipped because the plan reports errors for it.
func (o *Outcome) isError() bool {
	return o.Status == StatusFailed || o.Status == StatusStale || errors.Is(o.Err, ErrPlanErrors)
}

// heldBack says why a change with an impact was not made.
func heldBack(c plan.Change) string {
	return fmt.Sprintf("%s held back: %s; apply with --allow-impact to make it", c.Control, strings.Join(c.Impact, "; "))
}

// applier is one Apply run's shared state.
type applier struct {
	p       Provider
	pl      *plan.Plan
	o       Options
	cfg     *baselines.Config
	now     func() time.Time
	id      settings.Identity
	account string

	// locks serialise the read-modify-writes of one document: "bucket:"
	// and the bucket name, "topic:" and the topic ARN.
	locks lockMap
	// Shared resources are ensured once per run, however many buckets
	// need them.
	keys    onceMap[settings.KeyInfo]
	targets onceMap[struct{}]
	topics  onceMap[struct{}]

	mu    sync.Mutex
	extra []Outcome // buckets the tool created and brought to the baseline
}

// bucket applies one bucket's part of the plan.
func (a *applier) bucket(ctx context.Context, bp plan.BucketPlan) Outcome {
	out := Outcome{Account: a.account, Bucket: bp.Name, Region: bp.Region}
	var pending []plan.Change
	for _, c := range bp.Changes {
		if c.Action != plan.NoOp {
			pending = append(pending, c)
		}
	}
	if len(pending) == 0 {
		out.Status = StatusUnchanged
		return out
	}
	fail := func(status, what string, err error) Outcome {
		out.Status = status
		out.Err = &BucketError{bp.Name, bp.Region, what, err}
		return out
	}
	if len(bp.Errors) > 0 {
		return fail(StatusSkipped, "not applied", fmt.Errorf("%w (%s); fix them and plan again", ErrPlanErrors, strings.Join(bp.Errors, "; ")))
	}
	if err := ctx.Err(); err != nil {
		return fail(StatusSkipped, "not started", err)
	}
	ref := settings.BucketRef{Name: bp.Name, Region: bp.Region}

	st := a.p.ObserveBucket(ctx, ref, bp.Observed)
	st.Name, st.Region = bp.Name, bp.Region
	if len(st.Errors) > 0 {
		var msgs []string
		for _, asp := range slices.Sorted(maps.Keys(st.Errors)) {
			msgs = append(msgs, st.Errors[asp])
		}
		return fail(StatusFailed, "re-observe before applying", fmt.Errorf("%s; nothing was changed", strings.Join(msgs, "; ")))
	}
	if plan.StateDigest(st) != bp.StateDigest {
		return fail(StatusStale, "stale", ErrStale)
	}
	a.applyChanges(ctx, ref, st, pending, &out)
	return out
}

// changeSet is one bucket's pending changes, decoded.
type changeSet struct {
	controls []settings.ControlID // in plan order

	pab        *settings.PublicAccessBlock
	ownership  *settings.Ownership
	encryption *settings.Encryption
	logging    *settings.Logging
	// policySet and policyRemove are the owned statements tls_only and
	// admin_policy_lock write into (or remove from) the bucket policy.
	policySet    map[string]json.RawMessage
	policyRemove []string
	policyCtl    []settings.ControlID
	notification *settings.NotificationEntry
}

func (cs *changeSet) has(c settings.ControlID) bool { return slices.Contains(cs.controls, c) }

// applyChanges checks the preconditions and makes the writes of one bucket
// whose state st was just observed (and found to be the plan's).
func (a *applier) applyChanges(ctx context.Context, ref settings.BucketRef, st settings.BucketState, pending []plan.Change, out *Outcome) {
	refuse := func(what string, err error) {
		out.Status = StatusFailed
		out.Err = &BucketError{ref.Name, ref.Region, "refused: " + what, fmt.Errorf("%w; nothing was changed", err)}
	}
	cs := &changeSet{policySet: map[string]json.RawMessage{}}
	for _, c := range pending {
		if len(c.Impact) > 0 && !a.o.AllowImpact {
			out.HeldBack = append(out.HeldBack, heldBack(c))
			out.Held = append(out.Held, c.Control)
			continue
		}
		if err := cs.add(ref, c); err != nil {
			refuse(string(c.Control), err)
			return
		}
	}
	if len(cs.controls) == 0 {
		out.Status = StatusSkipped
		out.Err = &BucketError{ref.Name, ref.Region, "held back", errors.New(strings.Join(out.HeldBack, "; "))}
		return
	}
	if what, err := a.preconditions(ref, st, cs); err != nil {
		refuse(what, err)
		return
	}

	steps := []struct {
		controls []settings.ControlID
		run      func(context.Context) (int, error)
	}{
		{[]settings.ControlID{settings.BlockPublicAccess}, func(ctx context.Context) (int, error) { return a.writePublicAccessBlock(ctx, ref, cs.pab) }},
		{[]settings.ControlID{settings.ObjectOwnership}, func(ctx context.Context) (int, error) { return a.writeOwnership(ctx, ref, cs.ownership) }},
		{[]settings.ControlID{settings.DefaultEncryption}, func(ctx context.Context) (int, error) { return a.writeEncryption(ctx, ref, cs.encryption) }},
		{[]settings.ControlID{settings.AccessLogging}, func(ctx context.Context) (int, error) { return a.writeLogging(ctx, ref, cs.logging) }},
		{cs.policyCtl, func(ctx context.Context) (int, error) {
			return a.writeBucketPolicy(ctx, ref, cs.policyCtl, cs.policySet, cs.policyRemove)
		}},
		{[]settings.ControlID{settings.EventNotifications}, func(ctx context.Context) (int, error) {
			return a.writeNotifications(ctx, ref, cs.notification)
		}},
	}
	for _, s := range steps {
		if len(s.controls) == 0 || !slices.ContainsFunc(s.controls, cs.has) {
			continue
		}
		n, err := s.run(ctx)
		out.Writes += n
		if err != nil {
			out.Status = StatusFailed
			out.Err = &BucketError{ref.Name, ref.Region, joinControls(s.controls), err}
			return
		}
	}
	out.Status = StatusApplied
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
	case settings.AccessLogging:
		if err = json.Unmarshal(c.After, &cs.logging); err == nil && cs.logging != nil && cs.logging.TargetBucket == ref.Name {
			return errors.New("the bucket would log into itself")
		}
	case settings.TLSOnly, settings.AdminPolicyLock:
		sid := settings.SidDenyInsecureTransport
		if c.Control == settings.AdminPolicyLock {
			sid = settings.SidDenyAdminPolicyChanges
		}
		cs.policyCtl = append(cs.policyCtl, c.Control)
		if isNull(c.After) {
			cs.policyRemove = append(cs.policyRemove, sid)
			break
		}
		s, perr := settings.ParseStatement(c.After)
		switch {
		case perr != nil:
			err = perr
		case s.Sid != sid:
			err = fmt.Errorf("the statement's Sid is %q, not %q", s.Sid, sid)
		default:
			cs.policySet[sid] = c.After
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
	cs.controls = append(cs.controls, c.Control)
	return nil
}

// preconditions are checked against the state just observed, before the
// first write: a bucket that would fail half-way is refused whole.
func (a *applier) preconditions(ref settings.BucketRef, st settings.BucketState, cs *changeSet) (string, error) {
	if stmt, ok := cs.policySet[settings.SidDenyAdminPolicyChanges]; ok {
		s, _ := settings.ParseStatement(stmt) // parsed in add
		if who := a.deniedCaller(s); who != "" {
			return string(settings.AdminPolicyLock), fmt.Errorf("the deny names %s, which is the caller %s: it would lock s3baseline out of this bucket's policy", who, a.id.ARN)
		}
	}
	if len(cs.policyCtl) > 0 {
		if _, err := settings.MergePolicy(st.Policy, cs.policySet, cs.policyRemove); err != nil {
			return joinControls(cs.policyCtl), err
		}
	}
	if cs.notification != nil {
		if conflicts := settings.OverlapConflicts(st.Notifications, *cs.notification); len(conflicts) > 0 {
			return string(settings.EventNotifications), overlapError(conflicts, *cs.notification)
		}
	}
	return "", nil
}

// deniedCaller returns the principal of an admin_policy_lock statement
// that matches the caller, or "".
func (a *applier) deniedCaller(s settings.Statement) string {
	principals := s.Principal["AWS"]
	for _, p := range principals {
		if p == a.id.PrincipalARN || p == a.id.ARN {
			return p
		}
		if plan.CallerDenied(a.id.ARN, []string{p}) {
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

// bucketRecord is the journal record of a write to an aspect of ref.
func (a *applier) bucketRecord(ref settings.BucketRef, asp settings.Aspect, controls []settings.ControlID) Record {
	return Record{Account: a.account, Kind: KindBucket, Bucket: ref.Name, Region: ref.Region, Aspect: string(asp), Controls: controls}
}

// write journals one write and makes it: a started record with the exact
// before-state is appended and synced first (no record, no write), then
// done or failed.
func (a *applier) write(ctx context.Context, rec Record, before, after any, do func(context.Context) error) error {
	return journaledWrite(ctx, a.o.Journal, rec, before, after, do)
}

func journaledWrite(ctx context.Context, j *Journal, rec Record, before, after any, do func(context.Context) error) error {
	rec.Status = RecordStarted
	var err error
	if rec.Before, err = json.Marshal(before); err != nil {
		return fmt.Errorf("journal: before-state: %w; the write was not made", err)
	}
	if rec.After, err = json.Marshal(after); err != nil {
		return fmt.Errorf("journal: after-state: %w; the write was not made", err)
	}
	started, err := j.Append(rec)
	if err != nil {
		return fmt.Errorf("%w; the write was not made", err)
	}
	err = do(ctx)
	end := rec
	end.Before, end.After = nil, nil
	end.Started = started.Seq
	end.Status = RecordDone
	if err != nil {
		end.Status = RecordFailed
		end.Error = oneLine(err)
	}
	if _, jerr := j.Append(end); jerr != nil && err == nil {
		return fmt.Errorf("the write was made, but %w", jerr)
	}
	return err
}

// created journals a resource the tool created.
func (a *applier) created(rec Record, after any) {
	rec.Status = RecordCreated
	rec.Account = a.account
	rec.After, _ = json.Marshal(after)
	// A failure to journal a creation loses nothing rollback could undo:
	// created resources are never deleted by it.
	_, _ = a.o.Journal.Append(rec)
}

func joinControls(cs []settings.ControlID) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func isNull(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}

// oneLine folds an error's text onto one line.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// lockMap hands out one mutex per key.
type lockMap struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (l *lockMap) lock(key string) (unlock func()) {
	l.mu.Lock()
	m, ok := l.m[key]
	if !ok {
		m = &sync.Mutex{}
		l.m[key] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// onceMap runs a function once per key and hands every caller its result.
type onceMap[T any] struct {
	mu sync.Mutex
	m  map[string]*onceCell[T]
}

type onceCell[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *onceMap[T]) do(key string, fn func() (T, error)) (T, error) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceCell[T]{}
	}
	c, ok := o.m[key]
	if !ok {
		c = &onceCell[T]{}
		o.m[key] = c
	}
	o.mu.Unlock()
	c.once.Do(func() { c.v, c.err = fn() })
	return c.v, c.err
}
