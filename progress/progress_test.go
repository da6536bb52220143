package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLine(t *testing.T) {
	cases := map[string]struct {
		reason              string
		done, total, errors int
		elapsed             time.Duration
		want                string
	}{
		"Start": {
			reason: "nothing done yet: no rate, no ETA",
			total:  10000,
			want:   "plan: 0/10000 buckets (0%)",
		},
		"Running": {
			reason: "the rate is buckets per second since the start, the ETA what is left at that rate",
			done:   1200, total: 10000, elapsed: 5 * time.Second,
			want: "plan: 1200/10000 buckets (12%), 240/s, ETA 37s",
		},
		"Errors": {
			reason: "errors are counted once there are some",
			done:   10, total: 100, errors: 2, elapsed: 4 * time.Second,
			want: "plan: 10/100 buckets (10%), 2.5/s, ETA 36s, 2 errors",
		},
		"OneError": {
			reason: "one error is singular",
			done:   50, total: 100, errors: 1, elapsed: 100 * time.Second,
			want: "plan: 50/100 buckets (50%), 0.5/s, ETA 1m40s, 1 error",
		},
		"Hours": {
			reason: "a long ETA in hours and minutes",
			done:   1, total: 10000, elapsed: time.Second,
			want: "plan: 1/10000 buckets (0%), 1.0/s, ETA 2h46m",
		},
		"Done": {
			reason: "no ETA at the end",
			done:   100, total: 100, elapsed: 2 * time.Second,
			want: "plan: 100/100 buckets (100%), 50/s",
		},
		"NoBuckets": {
			reason: "an empty scope does not divide by zero",
			want:   "plan: 0/0 buckets",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Line("plan", tc.done, tc.total, tc.errors, tc.elapsed); got != tc.want {
				t.Errorf("\n%s\nLine = %q\nwant   %q", tc.reason, got, tc.want)
			}
		})
	}
}

// TestReporterThrottlesAndClears drives a Reporter with a fake clock and a
// buffer: redraws are throttled to the interval, the first and the last
// update are always drawn, a shorter line covers a longer one, and Finish
// clears the line and silences later updates.
func TestReporterThrottlesAndClears(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)}
	var w bytes.Buffer
	r := New(&w, "apply", WithClock(clock.now))

	r.Update(0, 100, 0) // first: drawn
	want := "\rapply: 0/100 buckets (0%)"
	if w.String() != want {
		t.Fatalf("first update drew %q, want %q", w.String(), want)
	}

	w.Reset()
	for i := 1; i <= 9; i++ {
		clock.advance(10 * time.Millisecond)
		r.Update(i, 100, 0)
	}
	if w.Len() != 0 {
		t.Fatalf("updates within %v of the last redraw drew %q; want nothing", DefaultInterval, w.String())
	}
	clock.advance(10 * time.Millisecond) // 100ms since the first draw
	r.Update(10, 100, 1)
	// 90 buckets left at 100/s is 0.9s, which reads 1s.
	want = "\rapply: 10/100 buckets (10%), 100/s, ETA 1s, 1 error"
	if w.String() != want {
		t.Fatalf("update after the interval drew %q, want %q", w.String(), want)
	}

	w.Reset()
	clock.advance(time.Millisecond)
	r.Update(100, 100, 0)                          // last: drawn at once, and padded over the longer line
	line := "apply: 100/100 buckets (100%), 990/s" // 100 in 101ms
	prev := len("apply: 10/100 buckets (10%), 100/s, ETA 1s, 1 error")
	want = "\r" + line + strings.Repeat(" ", prev-len(line))
	if w.String() != want {
		t.Fatalf("last update drew %q, want %q", w.String(), want)
	}

	w.Reset()
	r.Finish()
	want = "\r" + strings.Repeat(" ", prev) + "\r"
	if w.String() != want {
		t.Fatalf("Finish wrote %q, want the line blanked: %q", w.String(), want)
	}
	w.Reset()
	clock.advance(time.Second)
	r.Update(100, 100, 0)
	r.Finish()
	if w.Len() != 0 {
		t.Fatalf("after Finish, wrote %q; want nothing", w.String())
	}
}

// TestFinishWithoutUpdate: a run with no bucket leaves nothing behind.
func TestFinishWithoutUpdate(t *testing.T) {
	var w bytes.Buffer
	r := New(&w, "plan")
	r.Finish()
	if w.Len() != 0 {
		t.Fatalf("Finish without an update wrote %q", w.String())
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}
