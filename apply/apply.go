package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
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
	// Stop, when closed, starts no new write (an interrupt): the writes in
	// flight finish and are journaled as what they were, the rest is
	// reported not started. Cancelling Apply's ctx aborts the writes in
	// flight too; their outcome is journaled unknown.
	Stop <-chan struct{}
	// Observed, when set, holds the plan's buckets as this process
	// observed them while making the plan, just before (an event-driven
	// run plans and applies one bucket in one go, under the lock): they are
	// planned again from these states rather than observed again, and the
	// account's Block Public Access is the plan's. The compare and swap at
	// each write still reads what it writes first. Never set for a plan
	// read from a file.
	Observed map[string]settings.BucketState
	// Trusted says the plan is known to be the tool's own: made by this
	// process (apply without a plan file) or read from a file whose
	// signature was verified with the operator's key. Then no check of
	// the whole plan is made before the first write: nobody could have
	// edited it, so there is no forgery to refuse it for, and each bucket
	// is observed and planned again at its turn, right before its writes,
	// once rather than twice (before the run and again at its turn). The
	// KMS key answers are still taken before the first write, so a key the
	// run creates does not change how a later bucket is judged. A change
	// that, planned again, comes out otherwise is stale, as one whose
	// bucket changed since the plan; the compare and swap at each write is
	// the same.
	Trusted bool
	// Slots, when set, is the worker budget this run shares with others
	// (plan.Slots): a bucket is looked at and written only while its
	// worker holds a slot.
	Slots plan.Slots
}

// ErrInterrupted is why work was not started after Options.Stop closed.
var ErrInterrupted = errors.New("interrupted")

// stopped is the reason to start no new work: ctx's end, or Stop.
func stopped(ctx context.Context, stop <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-stop:
		return ErrInterrupted
	default:
		return nil
	}
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
	// HeldBack lists the changes not applied on purpose, each with why
	// ("block_public_access held back: ..."): for their impact, or because
	// they cannot be made (a lock-out, an overlap, S3 would refuse).
	HeldBack []string
	// Held are the controls of HeldBack, in the same order.
	Held []settings.ControlID
	// Applied are the controls now in place (written, or found already
	// as the plan wanted); Stale the controls whose state changed since
	// the plan, nothing written to them; Failed those whose write failed
	// or was not attempted.
	Applied []settings.ControlID
	Stale   []settings.ControlID
	Failed  []settings.ControlID
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
		p: p, pl: pl, o: o, cfg: cfg.ForAccount(id.Account), now: now, id: id, account: id.Account,
		locks: lockMap{m: map[string]*sync.Mutex{}},
	}
	workers := o.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}

	// Before the first write, every bucket with something to write is
	// observed and planned again: a plan whose changes are not the tool's
	// own is refused whole, and the writes then start from this
	// observation (see prepare).
	a.accountInputs(ctx)
	a.obs = p
	atTurn := o.Trusted && o.Observed == nil
	preps := make([]*prepared, len(pl.Buckets))
	if atTurn {
		a.obs = a.pinKeys(ctx)
	} else {
		forged := make([][]string, len(pl.Buckets))
		pool(ctx, o.Stop, workers, len(pl.Buckets), func(i int) {
			if a.needsWrites(pl.Buckets[i]) && o.Slots.Take(ctx) {
				defer o.Slots.Give()
				preps[i], forged[i] = a.prepare(ctx, pl.Buckets[i])
			}
		})
		if err := stopped(ctx, o.Stop); err != nil {
			return nil, fmt.Errorf("apply %w before the first write (%v): nothing was written", ErrInterrupted, err)
		}
		if probs := slices.Concat(forged...); len(probs) > 0 {
			return nil, &plan.ForgeryError{Problems: probs}
		}
	}

	outcomes := make([]Outcome, len(pl.Buckets))
	counter := progress.NewCounter(o.Progress, len(pl.Buckets))
	pool(ctx, o.Stop, workers, len(pl.Buckets), func(i int) {
		b := pl.Buckets[i]
		writes := a.needsWrites(b)
		if writes {
			if !o.Slots.Take(ctx) {
				return // reported not started, below
			}
			defer o.Slots.Give()
		}
		var prep *prepared
		switch {
		case !atTurn:
			prep = a.recheck(ctx, b, preps[i])
		case writes && stopped(ctx, o.Stop) == nil:
			// The plan is the tool's own: what a forgery check would
			// refuse cannot be in it, and a mismatch is stale (bucket).
			prep, _ = a.prepare(ctx, b)
		}
		outcomes[i] = a.bucket(ctx, b, prep)
		counter.Add(outcomes[i].isError())
	})

	var errs *multierror.Error
	notStarted := 0
	for i := range outcomes {
		if out := &outcomes[i]; out.Status == "" {
			b := pl.Buckets[i]
			*out = Outcome{Account: a.account, Bucket: b.Name, Region: b.Region, Status: StatusSkipped,
				Err: &BucketError{b.Name, b.Region, "not started", stopped(ctx, o.Stop)}}
			notStarted++
		}
	}
	// Account changes come after every bucket (see account.go); the
	// buckets the tool created on the way, for a bucket or for the trail,
	// are reported after the plan's buckets, the account changes last.
	account := a.accountChanges(ctx, outcomes)
	outcomes = append(outcomes, a.extra...)
	outcomes = append(outcomes, account...)
	for _, o := range outcomes {
		if o.isError() {
			errs = multierror.Append(errs, o.Err)
		}
	}
	if err := stopped(ctx, o.Stop); err != nil && notStarted > 0 {
		errs = multierror.Append(errs, fmt.Errorf("apply %w (%v): %d buckets not started; apply the plan again to finish", ErrInterrupted, err, notStarted))
	}
	return outcomes, errs.ErrorOrNil()
}

// pool runs fn(i) for i in [0, n) on at most workers goroutines, and
// starts no new i once ctx is done or stop closed.
func pool(ctx context.Context, stop <-chan struct{}, workers, n int, fn func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				fn(i)
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		case <-stop:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
}

// accountInputs reads what bucket changes are judged from besides the
// bucket: the account's Block Public Access. When it is not what the plan
// recorded, a change that differs from the tool's is stale rather than
// forged. The caller is the plan's: a session name differs from run to
// run, and the lock-out of this run's caller is checked again before each
// policy write (preconditions).
func (a *applier) accountInputs(ctx context.Context) {
	caller := a.pl.Caller
	if caller == "" {
		caller = a.id.ARN
	}
	a.acct = settings.AccountState{AccountID: a.account, Caller: caller}
	if a.o.Observed != nil {
		a.acct.PublicAccessBlock = a.pl.AccountPublicAccessBlock
		a.acct.PublicAccessBlockError = a.pl.AccountPublicAccessBlockError
		return
	}
	pab, err := a.p.AccountPublicAccessBlock(ctx)
	if err != nil {
		a.acct.PublicAccessBlockError = oneLine(err)
	}
	a.acct.PublicAccessBlock = pab
	switch {
	case (err != nil) != (a.pl.AccountPublicAccessBlockError != ""):
		a.inputsChanged = "whether the account's Block Public Access can be read"
	case err == nil && !reflect.DeepEqual(pab, a.pl.AccountPublicAccessBlock):
		a.inputsChanged = "the account's Block Public Access"
	}
}

// isError reports whether the outcome is an error of the run: the run is
// not complete when a control failed, was stale or was held back, or the
// plan reports errors for the bucket.
func (o *Outcome) isError() bool {
	return o.Status == StatusFailed || o.Status == StatusStale || len(o.Held) > 0 || errors.Is(o.Err, ErrPlanErrors)
}

// impactReason says why a change with an impact was not made.
func impactReason(c plan.Change) string {
	return strings.Join(c.Impact, "; ") + "; apply with --allow-impact to make it"
}

// heldBack is the held-back line of a change not made for its impact.
func heldBack(c plan.Change) string {
	return fmt.Sprintf("%s held back: %s", c.Control, impactReason(c))
}

// applier is one Apply run's shared state.
// partition is the account's partition, from the caller's ARN: every ARN
// the tool writes is built in it.
func (a *applier) partition() string { return settings.PartitionOf(a.id.ARN) }

type applier struct {
	p Provider
	// obs is what buckets are planned again with: p, or p with the KMS
	// key answers taken before the first write (pinKeys).
	obs     plan.BucketObserver
	pl      *plan.Plan
	o       Options
	cfg     *baselines.Config
	now     func() time.Time
	id      settings.Identity
	account string
	// acct is the account as bucket changes are judged with it now, and
	// inputsChanged what of it differs from the plan's ("" nothing).
	acct          settings.AccountState
	inputsChanged string

	// locks serialise the read-modify-writes of one document: "bucket:"
	// and the bucket name, "topic:" and the topic ARN.
	locks lockMap
	// Shared resources are ensured once per run, however many buckets
	// need them.
	keys    onceMap[settings.KeyInfo]
	targets onceMap[struct{}]
	topics  onceMap[struct{}]
	// grants are the shared documents' grants found or made in this run
	// (see grantOnce).
	grants grantCache

	mu    sync.Mutex
	extra []Outcome // buckets the tool created and brought to the baseline
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
		if unanswered(ctx, err) {
			end.Status = RecordUnknown
		}
		end.Error = oneLine(err)
	}
	if _, jerr := j.Append(end); jerr != nil && err == nil {
		return fmt.Errorf("the write was made, but %w", jerr)
	}
	return err
}

// unanswered reports whether a write's error leaves its outcome unknown:
// the call was cut off (the run aborted, a timeout) or lost on the network
// before S3 answered, so it may have been made. An error S3 answered with
// (an error code) or one of the tool's own checks is a failure.
func unanswered(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return false
	}
	var nerr net.Error
	return errors.As(err, &nerr)
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
