// Package progress draws a one-line progress report of a long plan or apply
// run on a terminal: buckets done of the total, the rate, the time left and
// the errors so far, redrawn in place at most a few times a second and
// cleared when the run ends.
//
// It is for people watching a terminal only. The CLI creates a Reporter only
// when stderr is a terminal, so scripts, tests and CI never see it, and
// nothing in the plan or apply output depends on it.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultInterval is the shortest time between two redraws: ten a second
// is smooth to the eye and costs nothing next to the API calls.
const DefaultInterval = 100 * time.Millisecond

// Reporter renders progress updates to a writer. It is safe for concurrent
// use; Update is meant to be passed as the Progress callback of
// plan.Options or apply.Options.
type Reporter struct {
	w        io.Writer
	label    string
	now      func() time.Time
	interval time.Duration

	mu       sync.Mutex
	start    time.Time
	lastDraw time.Time
	drawn    int // width of the line on screen, 0 when nothing is drawn
	finished bool
}

// Option adjusts a Reporter.
type Option func(*Reporter)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(r *Reporter) { r.now = now } }

// WithInterval sets the shortest time between redraws (DefaultInterval).
func WithInterval(d time.Duration) Option { return func(r *Reporter) { r.interval = d } }

// New returns a Reporter that draws on w, each line starting with label
// ("plan", "apply"). The clock starts now: the rate and the time left are
// measured from here.
func New(w io.Writer, label string, opts ...Option) *Reporter {
	r := &Reporter{w: w, label: label, now: time.Now, interval: DefaultInterval}
	for _, o := range opts {
		o(r)
	}
	r.start = r.now()
	return r
}

// Update reports that done of total buckets are finished, errors of them
// with an error. It redraws at most once per interval, except that the
// first and the last update (done == total) are always drawn.
func (r *Reporter) Update(done, total, errors int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	t := r.now()
	if r.drawn > 0 && done < total && t.Sub(r.lastDraw) < r.interval {
		return
	}
	r.lastDraw = t
	line := Line(r.label, done, total, errors, t.Sub(r.start))
	pad := ""
	if n := r.drawn - len(line); n > 0 {
		pad = strings.Repeat(" ", n) // cover the rest of a longer line
	}
	fmt.Fprintf(r.w, "\r%s%s", line, pad)
	r.drawn = max(len(line)+len(pad), 1)
}

// Finish clears the line, so that what is printed next starts on a clean
// line; later updates are ignored. It is safe to call more than once.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	if r.drawn > 0 {
		fmt.Fprintf(r.w, "\r%s\r", strings.Repeat(" ", r.drawn))
		r.drawn = 0
	}
}

// Line renders one progress line:
//
//	plan: 1200/10000 buckets (12%), 230/s, ETA 38s, 2 errors
//
// The rate and ETA are left out until something is done; errors only when
// there are some.
func Line(label string, done, total, errors int, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d/%d buckets", label, done, total)
	if total > 0 {
		fmt.Fprintf(&b, " (%d%%)", done*100/total)
	}
	if done > 0 && elapsed > 0 {
		rate := float64(done) / elapsed.Seconds()
		fmt.Fprintf(&b, ", %s/s", formatRate(rate))
		if done < total {
			left := time.Duration(float64(total-done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", ETA %s", formatDuration(left))
		}
	}
	switch errors {
	case 0:
	case 1:
		b.WriteString(", 1 error")
	default:
		fmt.Fprintf(&b, ", %d errors", errors)
	}
	return b.String()
}

func formatRate(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// formatDuration rounds to what a person reads at a glance: 38s, 4m05s,
// 1h02m.
func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
	}
}

// IsTerminal reports whether w is a terminal (a character device): the only
// place a redrawn line makes sense. A pipe, a file or a test's buffer is not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
