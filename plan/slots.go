package plan

import "context"

// Slots is a worker budget shared among runs that work at once (an
// organization's accounts, planned or applied side by side): a worker
// holds one of its slots while it reads or writes a bucket, so however
// many runs are under way, no more buckets than its capacity are worked on
// at once, and a run busy with calls of its own (assuming its role,
// reading its account settings) leaves its share to the others. The nil
// Slots is no budget: Take never waits.
type Slots chan struct{}

// NewSlots is a budget of n workers.
func NewSlots(n int) Slots { return make(Slots, max(1, n)) }

// Take holds a slot, waiting for one; it reports false when ctx ends
// first, and then holds nothing.
func (s Slots) Take(ctx context.Context) bool {
	if s == nil {
		return true
	}
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Give returns a slot Take held.
func (s Slots) Give() {
	if s != nil {
		<-s
	}
}
