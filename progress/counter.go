package progress

import "sync"

// Counter counts finished buckets for a progress callback (the Progress
// field of plan.Options and apply.Options) and calls it one update at a
// time, so the callback sees done grow by one each call and needs no lock
// of its own. A Counter with a nil callback does nothing.
type Counter struct {
	fn func(done, total, errors int)

	mu                  sync.Mutex
	done, failed, total int
}

// NewCounter reports (0, total, 0) to fn at once, then one update per Add.
// fn may be nil.
func NewCounter(fn func(done, total, errors int), total int) *Counter {
	c := &Counter{fn: fn, total: total}
	if fn != nil {
		fn(0, total, 0)
	}
	return c
}

// Add counts one finished bucket, failed or not, and reports the new
// totals. It is safe for concurrent use.
func (c *Counter) Add(failed bool) {
	if c.fn == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if failed {
		c.failed++
	}
	c.fn(c.done, c.total, c.failed)
}
