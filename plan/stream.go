package plan

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/s3baseline/s3baseline/settings"
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
	return newSlimmer().slim(b)
}

// slimmer makes Slim buckets that share what they have in common. Across
// an estate the pending changes of one control read alike (a reason and an
// impact are made from the baseline, the region's key and log bucket,
// not from the bucket's name), so a hundred thousand drifted buckets have
// a few dozen distinct change lists: kept once each, the buckets a plan
// holds cost their names and a few words, where each kept its own copy of
// the same text before (about 2 KiB a bucket). What is shared is never
// written to: the slices are clipped, so an append copies.
type slimmer struct {
	strs     map[string]string
	changes  map[string][]Change
	findings map[string][]Finding
	exempt   map[string][]Exemption
	key      []byte

	// shapes are the distinct Slim buckets without their names (see
	// keep), by what they hold.
	shapes map[string]*BucketPlan
}

func newSlimmer() *slimmer {
	return &slimmer{strs: map[string]string{}, changes: map[string][]Change{}, findings: map[string][]Finding{}, exempt: map[string][]Exemption{},
		shapes: map[string]*BucketPlan{}}
}

// str is s, shared with every equal string seen before.
func (s *slimmer) str(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := s.strs[v]; ok {
		return c
	}
	s.strs[v] = v
	return v
}

func (s *slimmer) strList(vs []string) []string {
	if vs == nil {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = s.str(v)
	}
	return out
}

// field appends one field of a key: its length first, so no two lists
// of fields make the same key.
func (s *slimmer) field(v string) {
	s.key = binary.AppendUvarint(s.key, uint64(len(v)))
	s.key = append(s.key, v...)
}

func (s *slimmer) list(vs []string) {
	if vs == nil {
		s.key = append(s.key, 0xff)
		return
	}
	s.key = binary.AppendUvarint(s.key, uint64(len(vs)))
	for _, v := range vs {
		s.field(v)
	}
}

func (s *slimmer) slim(b *BucketPlan) BucketPlan {
	out := BucketPlan{Name: b.Name, Region: s.str(b.Region), Baseline: s.str(b.Baseline), Errors: b.Errors, Directory: b.Directory}
	out.Changes = s.changeList(b.Changes)
	out.Findings = s.findingList(b.Findings)
	out.Exempt = s.exemptList(b.Exempt)
	return out
}

// keep is b Slim as a kept record: its name, and its shape (the Slim
// bucket without the name) shared with every bucket that reads the same.
// A plan of a million buckets so keeps 24 bytes and a name for each where a
// Slim BucketPlan is ten times that; most of an estate comes in a few
// dozen shapes.
func (s *slimmer) keep(b *BucketPlan) keptBucket {
	sb := s.slim(b)
	s.key = s.key[:0]
	s.field(sb.Region)
	s.field(sb.Baseline)
	s.list(sb.Errors)
	if sb.Directory {
		s.key = append(s.key, 1)
	} else {
		s.key = append(s.key, 0)
	}
	// The lists are interned, so where they are is what they are (%p of
	// a slice is its first element's address; nil's is 0).
	s.key = fmt.Appendf(s.key, "%p,%d,%t|%p,%d,%t|%p,%d,%t", sb.Changes, len(sb.Changes), sb.Changes == nil,
		sb.Findings, len(sb.Findings), sb.Findings == nil, sb.Exempt, len(sb.Exempt), sb.Exempt == nil)
	shape, ok := s.shapes[string(s.key)]
	if !ok {
		sb.Name = ""
		sb.Errors = s.strList(sb.Errors)
		shape = &sb
		s.shapes[string(s.key)] = shape
	}
	return keptBucket{name: b.Name, shape: shape}
}

func (s *slimmer) changeList(cs []Change) []Change {
	s.key = s.key[:0]
	n := 0
	for _, c := range cs {
		if c.Action == NoOp {
			continue
		}
		n++
		s.field(string(c.Control))
		s.key = binary.AppendVarint(s.key, int64(c.Action))
		s.list(c.NIST)
		s.field(c.Reason)
		s.list(c.Impact)
		s.field(c.HeldBack)
	}
	if n == 0 {
		return nil
	}
	if out, ok := s.changes[string(s.key)]; ok {
		return out
	}
	out := make([]Change, 0, n)
	for _, c := range cs {
		if c.Action != NoOp {
			out = append(out, Change{Control: settings.ControlID(s.str(string(c.Control))), Action: c.Action, NIST: s.strList(c.NIST),
				Reason: s.str(c.Reason), Impact: s.strList(c.Impact), HeldBack: s.str(c.HeldBack)})
		}
	}
	s.changes[string(s.key)] = out
	return out
}

func (s *slimmer) findingList(fs []Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	s.key = s.key[:0]
	s.key = binary.AppendUvarint(s.key, uint64(len(fs)))
	for _, f := range fs {
		s.field(string(f.Control))
		if m := f.Muted; m != nil {
			s.key = append(s.key, 1)
			s.field(string(m.Control))
			s.field(m.Reason)
			s.field(m.Until)
		} else {
			s.key = append(s.key, 0)
		}
	}
	if out, ok := s.findings[string(s.key)]; ok {
		return out
	}
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = Finding{Control: f.Control, Muted: f.Muted}
	}
	s.findings[string(s.key)] = out
	return out
}

func (s *slimmer) exemptList(es []Exemption) []Exemption {
	if es == nil {
		return nil
	}
	s.key = s.key[:0]
	s.key = binary.AppendUvarint(s.key, uint64(len(es)))
	for _, e := range es {
		s.field(string(e.Control))
		s.field(e.Reason)
		s.field(e.Until)
	}
	if out, ok := s.exempt[string(s.key)]; ok {
		return out
	}
	out := slices.Clip(slices.Clone(es))
	s.exempt[string(s.key)] = out
	return out
}

// window is how many buckets past the first one not yet emitted may be
// handed out: enough that the workers never wait on a slow bucket in the
// common case, few enough that memory stays bounded when one hangs.
const window = 4096

// emitter hands Build's buckets to the sink in plan order as they finish
// out of order, and keeps what the plan returns: every bucket whole with
// no sink, a kept record of each with one.
type emitter struct {
	sink Sink

	mu      sync.Mutex
	cond    *sync.Cond
	pending map[int]BucketPlan
	next    int
	err     error
	buckets []BucketPlan // no sink
	kept    *Kept        // a sink
	slim    *slimmer
}

func newEmitter(sink Sink, n int) *emitter {
	e := &emitter{sink: sink, pending: map[int]BucketPlan{}}
	if sink == nil {
		e.buckets = make([]BucketPlan, 0, n)
	} else {
		e.kept = &Kept{recs: make([]keptBucket, 0, n)}
		e.slim = newSlimmer()
	}
	e.cond = sync.NewCond(&e.mu)
	return e
}

// count is how many buckets have been kept.
func (e *emitter) count() int {
	if e.kept != nil {
		return e.kept.Len()
	}
	return len(e.buckets)
}

// each yields the kept buckets from i to j (not j).
func (e *emitter) each(i, j int) iter.Seq[*BucketPlan] {
	if e.kept != nil {
		return e.kept.each(i, j)
	}
	return eachBucket(e.buckets[i:j])
}

// Kept is what a streamed plan keeps of its buckets once they are written:
// each bucket Slim (see Slim), as its name and a shape it shares with every
// bucket that reads the same. AccountPlan.EachBucket reads them.
type Kept struct {
	recs []keptBucket
}

type keptBucket struct {
	name  string
	shape *BucketPlan
}

// Len is the number of buckets kept.
func (k *Kept) Len() int { return len(k.recs) }

// each yields buckets i to j (not j) in one BucketPlan the loop owns until
// its next turn: a loop's change never reaches a shape, and a pass over a
// million buckets allocates nothing (the account controls make several).
func (k *Kept) each(i, j int) iter.Seq[*BucketPlan] {
	return func(yield func(*BucketPlan) bool) {
		var b BucketPlan
		for _, r := range k.recs[i:j] {
			b = *r.shape
			b.Name = r.name
			if !yield(&b) {
				return
			}
		}
	}
}

// eachBucket yields pointers into buckets.
func eachBucket(buckets []BucketPlan) iter.Seq[*BucketPlan] {
	return func(yield func(*BucketPlan) bool) {
		for i := range buckets {
			if !yield(&buckets[i]) {
				return
			}
		}
	}
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
	e.kept.recs = append(e.kept.recs, e.slim.keep(&b))
}

func (e *emitter) tail(p *Plan) error {
	if e.sink == nil {
		return nil
	}
	return e.sink.Tail(p)
}
