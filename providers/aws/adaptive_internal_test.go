package aws

import (
	"context"
	"testing"
	"time"
)

// TestWindowAIMD: the window doubles per window of flat answers until the
// first slow answer (slow start), then grows about one per window of flat
// answers, holds when latency rises, and halves once for a burst of
// throttling.
func TestWindowAIMD(t *testing.T) {
	now := time.Unix(0, 0)
	w := newWindow()
	ctx := context.Background()
	answer := func(latency time.Duration, throttled bool) {
		if err := w.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(latency)
		w.release(latency, throttled, now)
	}
	// Slow start: a window of flat answers doubles it, twice.
	for range 16 + 32 {
		answer(40*time.Millisecond, false)
	}
	if w.limit != 64 {
		t.Fatalf("after two windows of flat answers in slow start limit = %.2f, want 64", w.limit)
	}
	// One slow answer ends slow start and holds the window.
	answer(120*time.Millisecond, false)
	if w.limit != 64 || !w.congested {
		t.Fatalf("after a slow answer limit = %.2f (congested %v), want 64 and slow start over", w.limit, w.congested)
	}
	// From then on a window of flat answers grows it by about one.
	for range 64 {
		answer(40*time.Millisecond, false)
	}
	if w.limit < 64.9 || w.limit > 65.1 {
		t.Fatalf("after a window of flat answers limit = %.2f, want about 65", w.limit)
	}
	for range 8000 {
		answer(40*time.Millisecond, false)
	}
	grown := w.limit
	if grown < 100 {
		t.Fatalf("after 8000 flat answers limit = %.1f, want it grown well past 65", grown)
	}
	// A queue building: latency three times the best: the window holds.
	for range 500 {
		answer(120*time.Millisecond, false)
	}
	if w.limit != grown {
		t.Errorf("with latency rising the limit moved from %.1f to %.1f", grown, w.limit)
	}
	// A burst of throttling within one round trip halves it once.
	for range 10 {
		w.inFlight++
		w.release(time.Millisecond, true, now)
	}
	if want := grown / 2; w.limit < want-0.01 || w.limit > want+0.01 {
		t.Errorf("after one burst of throttling limit = %.1f, want %.1f", w.limit, want)
	}
	// Throttling that goes on halves it again each round trip, to the floor.
	for range 20 {
		now = now.Add(time.Second)
		w.inFlight++
		w.release(time.Millisecond, true, now)
	}
	if w.limit != adaptiveMin {
		t.Errorf("under steady throttling limit = %.1f, want the floor %d", w.limit, adaptiveMin)
	}
}

// TestWindowBoundsInFlight: no more than the limit is ever in flight.
func TestWindowBoundsInFlight(t *testing.T) {
	w := newWindow()
	w.limit = 3
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for range 3 {
		if err := w.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.acquire(ctx); err == nil {
		t.Fatal("a fourth call got a slot with the limit at 3")
	}
	w.release(time.Millisecond, false, time.Now())
	if err := w.acquire(context.Background()); err != nil {
		t.Fatalf("a freed slot was not given: %v", err)
	}
}

// TestWindowThrottleEndsSlowStart: throttling in slow start halves the
// window and growth is additive after it, as after a slow answer.
func TestWindowThrottleEndsSlowStart(t *testing.T) {
	now := time.Unix(0, 0)
	w := newWindow()
	w.inFlight++
	w.release(time.Millisecond, true, now)
	if w.limit != adaptiveStart/2 || !w.congested {
		t.Fatalf("after a throttled answer limit = %.2f (congested %v), want %d and slow start over", w.limit, w.congested, adaptiveStart/2)
	}
	for range adaptiveStart / 2 {
		now = now.Add(40 * time.Millisecond)
		w.inFlight++
		w.release(40*time.Millisecond, false, now)
	}
	if w.limit < 8.9 || w.limit > 9.1 {
		t.Errorf("after a window of flat answers limit = %.2f, want about 9 (additive, not doubled)", w.limit)
	}
}
