package plan

import (
	"context"
	"sync"
)

// Sink receives a one-account plan as Build makes it, so that the plan
// file, `--json` and the text plan are written while the buckets are still
// being observed and no part of the program holds the whole estate: Head
// with the plan's header (no buckets, no account results yet), Bucket once
// per bucket in plan order (by name, then the directory buckets), and Tail
// with the finished plan, whose buckets are Slim. Calls come one at a time;
// an error stops the plan.
type Sink interface {
	Head(p *Plan) error
	Bucket(b *BucketPlan) error
	Tail(p *Plan) error
}

// Sinks sends the plan to each sink in turn.
type Sinks []Sink

// Head implements Sink.
func (s Sinks) Head(p *Plan) error {
	for _, k := range s {
		if err := k.Head(p); err != nil {
			return err
		}
	}
	return nil
}

// Bucket implements Sink.
func (s Sinks) Bucket(b *BucketPlan) error {
	for _, k := range s {
		if err := k.Bucket(b); err != nil {
			return err
		}
	}
	return nil
}

// Tail implements Sink.
func (s Sinks) Tail(p *Plan) error {
	for _, k := range s {
		if err := k.Tail(p); err != nil {
			return err
		}
	}
	return nil
}

// Slim is the bucket as a streamed plan keeps it once it has been written:
// what the summary, the account controls, the exit code, the run report and
// apply's outcomes read (name, region, baseline, exemptions, errors, each
// pending change's control, action, NIST controls, reason, impact and
// hold-back, each finding's control and mute), without the before and
// after values, the no-op changes and the observed digests that make up
// most of a bucket's plan. A bucket with
// nothing pending keeps no change at all: Slim of a compliant bucket costs
// its name and a few words.
func Slim(b *BucketPlan) BucketPlan {
	out := BucketPlan{Name: b.Name, Region: b.Region, Baseline: b.Baseline, Exempt: b.Exempt, Errors: b.Errors, Directory: b.Directory}
	for _, c := range b.Changes {
		if c.Action != NoOp {
			out.Changes = append(out.Changes, Change{Control: c.Control, Action: c.Action, NIST: c.NIST, Reason: c.Reason, Impact: c.Impact, HeldBack: c.HeldBack})
		}
	}
	for _, f := range b.Findings {
		out.Findings = append(out.Findings, Finding{Control: f.Control, Muted: f.Muted})
	}
	return out
}

// window is how many buckets past the first one not yet emitted may be
// handed out: enough that the workers never wait on a slow bucket in the
// common case, few enough that memory stays bounded when one hangs.
const window = 4096

// emitter hands Build's buckets to the sink in plan order as they finish
// out of order, and keeps what the plan returns: every bucket whole with
// no sink, Slim with one.
type emitter struct {
	sink Sink

	mu      sync.Mutex
	cond    *sync.Cond
	pending map[int]BucketPlan
	next    int
	err     error
	buckets []BucketPlan
}

func newEmitter(sink Sink, n int) *emitter {
	e := &emitter{sink: sink, pending: map[int]BucketPlan{}, buckets: make([]BucketPlan, 0, n)}
	e.cond = sync.NewCond(&e.mu)
	return e
}

func (e *emitter) head(p *Plan) error {
	if e.sink == nil {
		return nil
	}
	return e.sink.Head(p)
}

// wait blocks until bucket i is within the window, or ctx is done.
func (e *emitter) wait(ctx context.Context, i int) error {
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for i-e.next >= window && e.err == nil && ctx.Err() == nil {
		e.cond.Wait()
	}
	if e.err != nil {
		return e.err
	}
	return ctx.Err()
}

// done records bucket i and emits every bucket now in order.
func (e *emitter) done(i int, b BucketPlan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending[i] = b
	for {
		b, ok := e.pending[e.next]
		if !ok {
			break
		}
		delete(e.pending, e.next)
		e.next++
		e.keep(b)
	}
	e.cond.Broadcast()
	return e.err
}

// extra emits a bucket after those of the listing (a directory bucket).
func (e *emitter) extra(b BucketPlan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keep(b)
	return e.err
}

func (e *emitter) keep(b BucketPlan) {
	if e.sink == nil {
		e.buckets = append(e.buckets, b)
		return
	}
	if e.err == nil {
		e.err = e.sink.Bucket(&b)
	}
	e.buckets = append(e.buckets, Slim(&b))
}

func (e *emitter) tail(p *Plan) error {
	if e.sink == nil {
		return nil
	}
	return e.sink.Tail(p)
}
