package aws

import (
	"context"
	"slices"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// Adaptive concurrency (--concurrency auto): how many calls are in flight
// at once, per service and region, is found rather than configured. AIMD,
// as TCP's congestion window and the SDK's own adaptive retry mode do: the
// window grows by about one call per window's worth of answers while the
// latency stays near the best seen (no queue is building, at AWS or in this
// process), holds when the latency rises, and halves when AWS throttles
// (SlowDown, Throttling, 503), at most once per round trip, so that one
// burst of throttling answers to one window halves it once. Until the first
// sign of a queue or of throttling it grows by one per answer, doubling
// each round trip (TCP's slow start): from 16 to the few hundred a fast
// path takes, one per round trip would spend hundreds of round trips on
// the way, most of a 10,000-bucket plan (measured in bench/results.md).

// Adaptive's bounds.
const (
	adaptiveStart = 16
	adaptiveMin   = 2
	// AdaptiveMax bounds the window, and is how many bucket workers and
	// connections a run in auto mode keeps.
	AdaptiveMax = 512
)

// window is the adaptive limit of one service in one region.
type window struct {
	mu sync.Mutex
	// waiting are the callers waiting for a slot, first come first
	// served; a freed slot is handed to one of them, never announced to
	// all (hundreds of workers wait in auto mode).
	waiting  []chan struct{}
	limit    float64
	inFlight int
	// best is the lowest latency seen lately (it drifts up slowly, so
	// that a path that got slower for good is learnt).
	best         time.Duration
	samples      int
	lastDecrease time.Time
	// congested is set by the first answer that was throttled or slow:
	// slow start is over, growth is additive from then on.
	congested bool
	// peak is the largest limit reached, for reports.
	peak float64
}

func newWindow() *window {
	return &window{limit: adaptiveStart, peak: adaptiveStart}
}

// acquire waits for a slot.
func (w *window) acquire(ctx context.Context) error {
	w.mu.Lock()
	if w.inFlight < int(w.limit) && len(w.waiting) == 0 {
		w.inFlight++
		w.mu.Unlock()
		return nil
	}
	granted := make(chan struct{}, 1)
	w.waiting = append(w.waiting, granted)
	w.mu.Unlock()
	select {
	case <-granted:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		defer w.mu.Unlock()
		if i := slices.Index(w.waiting, granted); i >= 0 {
			w.waiting = slices.Delete(w.waiting, i, i+1)
			return ctx.Err()
		}
		// Granted as ctx ended: the slot is ours, give it on.
		w.inFlight--
		w.grant()
		return ctx.Err()
	}
}

// grant hands free slots to waiting callers, in order. w.mu is held.
func (w *window) grant() {
	for len(w.waiting) > 0 && w.inFlight < int(w.limit) {
		w.inFlight++
		w.waiting[0] <- struct{}{}
		w.waiting = w.waiting[1:]
	}
}

// release frees a slot and learns from the attempt: its latency, and
// whether it was throttled.
func (w *window) release(latency time.Duration, throttled bool, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
	defer w.grant()
	switch {
	case throttled:
		// Halve once per round trip: the other answers of the same window
		// are the same news.
		w.congested = true
		rtt := max(w.best, 10*time.Millisecond)
		if now.Sub(w.lastDecrease) >= 2*rtt {
			w.limit = max(adaptiveMin, w.limit/2)
			w.lastDecrease = now
		}
	default:
		w.samples++
		if w.best == 0 || latency < w.best {
			w.best = latency
		} else if w.samples%200 == 0 {
			w.best += w.best / 20
		}
		// Latency within half again of the best: no queue; grow.
		switch {
		case latency > w.best+w.best/2:
			w.congested = true
		case w.congested:
			w.limit = min(AdaptiveMax, w.limit+1/w.limit)
		default:
			w.limit = min(AdaptiveMax, w.limit+1)
		}
		w.peak = max(w.peak, w.limit)
	}
}

// windows are a provider's adaptive limits, by service and region; shared
// with the providers of member accounts made from it.
type windows struct {
	mu sync.Mutex
	m  map[string]*window
}

func (ws *windows) get(ctx context.Context) *window {
	key := awsmiddleware.GetServiceID(ctx) + "|" + awsmiddleware.GetRegion(ctx)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w, ok := ws.m[key]
	if !ok {
		w = newWindow()
		ws.m[key] = w
	}
	return w
}

// AdaptiveLimits reports each service and region's window: its current
// limit and the largest it reached ("s3|eu-west-1": {current, peak}); nil
// when the provider is not adaptive.
func (p *Provider) AdaptiveLimits() map[string][2]float64 {
	ws := p.opts.adaptive
	if ws == nil {
		return nil
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	out := map[string][2]float64{}
	for k, w := range ws.m {
		w.mu.Lock()
		out[k] = [2]float64{w.limit, w.peak}
		w.mu.Unlock()
	}
	return out
}
