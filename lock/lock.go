// Package lock keeps apply and rollback to one at a time per account.
//
// A run takes the account's lock before its first write and releases it
// when it ends. Two kinds exist: a lock file in the tool's state directory
// (File), shared by every run started there, and a lock object in an S3
// bucket (S3), shared by every run that names the same bucket, wherever it
// runs. Both record who holds them (Holder) so that a refused run can say
// whom it waits for, and both have a lease, so a holder that crashed does
// not lock the account forever. A live holder renews its lease in the
// background until Release.
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultLease is the lease a lock gets when the caller names none. The
// holder renews it every third of it, so it bounds how long a crashed
// holder (one on another host, whose process cannot be checked) keeps the
// account locked, not how long a run may last.
const DefaultLease = 15 * time.Minute

// Holder is who holds a lock, written into the lock file or object as JSON.
type Holder struct {
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	Command string `json:"command"` // "apply" or "rollback"
	Account string `json:"account"`
	// Started is when the holder took the lock; Expires is when its lease
	// ends unless renewed. Both are the holder's clock: hosts that share a
	// lock must keep their clocks within a small part of the lease.
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
	// Token is random and names this acquisition: a lock is released or
	// renewed only by the run whose token it still holds.
	Token string `json:"token"`
}

// Lock is a held lock. Its holder must Release it: until then a goroutine
// renews its lease.
type Lock interface {
	// Release stops the lease renewal and frees the lock if it still
	// holds this acquisition's token. It is an error, naming the new
	// holder, when another run took the lock over after the lease ran
	// out: the writes made since were not protected. A second Release
	// does nothing.
	Release(ctx context.Context) error
	// Note is one line to show the user when the lock was taken over
	// from a stale holder (whom, and why it was stale); "" when the lock
	// was free.
	Note() string
}

// ErrHeld matches (errors.Is) the *HeldError returned when another run
// holds the lock.
var ErrHeld = errors.New("lock held")

// HeldError is the refusal of a lock that another run holds.
type HeldError struct {
	Account string
	Holder  Holder // zero when the lock could not be read (Unreadable)
	// Where names the lock: the lock file's path, or the lock object's
	// s3:// URL.
	Where string
	// Unreadable, when set, says why the lock's content could not be
	// read (a holder that crashed while writing it, say); Modified is
	// then when it was last written, if known.
	Unreadable string
	Modified   time.Time
	// Lease is the lease of the refused acquisition: an unreadable lock
	// file counts as stale once it is older than that.
	Lease time.Duration
}

func (e *HeldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "account %s is locked", e.Account)
	object := strings.HasPrefix(e.Where, "s3://")
	if e.Unreadable != "" {
		fmt.Fprintf(&b, " by a lock that cannot be read (%s)", e.Unreadable)
		if !e.Modified.IsZero() {
			fmt.Fprintf(&b, ", written %s", stamp(e.Modified))
		}
	} else {
		h := e.Holder
		cmd := h.Command
		if cmd == "" {
			cmd = "a run"
		}
		fmt.Fprintf(&b, " by %s on host %s (pid %d) since %s, lease until %s", cmd, h.Host, h.PID, stamp(h.Started), stamp(h.Expires))
	}
	if object {
		fmt.Fprintf(&b, "; lock object %s", e.Where)
	} else {
		fmt.Fprintf(&b, "; lock file %s", e.Where)
	}
	switch {
	case e.Unreadable != "" && !object && !e.Modified.IsZero():
		fmt.Fprintf(&b, ": it counts as stale after %s; remove it sooner only if no run is going", stamp(e.Modified.Add(e.Lease)))
	case object:
		b.WriteString(": wait for that run to end, or, if it is gone, delete the lock object (or wait for its lease to end)")
	default:
		b.WriteString(": wait for that run to end, or, if that process is gone, remove the lock file")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// releaseOnce is both locks' Release: stop renewing (a renewal that found
// the lock taken over is the error), then, the first time only, under mu,
// remove the lock.
func releaseOnce(mu *sync.Mutex, released *bool, rn *renewer, remove func() error) error {
	lost := rn.stop()
	mu.Lock()
	defer mu.Unlock()
	if *released {
		return nil
	}
	*released = true
	if lost != nil {
		return fmt.Errorf("release lock: %w", lost)
	}
	return remove()
}

// stillHeld is nil when the lock's content b (what, "lock file PATH" or
// "lock object URI") holds mine's token, an errLost error naming what
// happened otherwise.
func stillHeld(what string, mine Holder, b []byte) error {
	cur, bad := decode(b)
	if bad != "" {
		return fmt.Errorf("%s of account %s was overwritten (%s) while this run held it: %w", what, mine.Account, bad, errLost)
	}
	if cur.Token != mine.Token {
		return fmt.Errorf("%s of account %s was taken over by %s on host %s (pid %d) at %s, after this run's lease ended %s: %w",
			what, mine.Account, cur.Command, cur.Host, cur.PID, stamp(cur.Started), stamp(mine.Expires), errLost)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// prepare fills what the caller left out of h and sets the fields this
// acquisition owns (Account, Expires, Token when empty).
func prepare(h Holder, account string, lease time.Duration, now time.Time) (Holder, error) {
	if err := checkAccount(account); err != nil {
		return Holder{}, err
	}
	h.Account = account
	if h.Host == "" {
		host, err := os.Hostname()
		if err != nil {
			return Holder{}, fmt.Errorf("find host name for the lock: %w", err)
		}
		h.Host = host
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Started.IsZero() {
		h.Started = now
	}
	h.Started = h.Started.UTC().Truncate(time.Second)
	h.Expires = now.Add(lease).UTC()
	if h.Token == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Holder{}, fmt.Errorf("make lock token: %w", err)
		}
		h.Token = hex.EncodeToString(b[:])
	}
	return h, nil
}

// checkAccount refuses an account that cannot be a file name or key part:
// the account names the lock file and the lock object.
func checkAccount(account string) error {
	if account == "" || account == "." || account == ".." {
		return fmt.Errorf("lock account %q: not an account", account)
	}
	for _, r := range account {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("lock account %q: only letters, digits, '-', '_' and '.' may name an account", account)
		}
	}
	return nil
}

func leaseOrDefault(lease time.Duration) time.Duration {
	if lease <= 0 {
		return DefaultLease
	}
	return lease
}

func encode(h Holder) []byte {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		panic(err) // a Holder always marshals
	}
	return append(b, '\n')
}

// decode reads a holder; a reason why not otherwise.
func decode(b []byte) (Holder, string) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return Holder{}, "empty"
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, "not a lock: " + err.Error()
	}
	if h.Token == "" {
		return Holder{}, "no token"
	}
	return h, ""
}

// errLost marks a renewal that found the lock in another run's hands: no
// later renewal can succeed.
var errLost = errors.New("lock lost")

// renewer renews a lease every so often until stopped. Renewal failures
// other than errLost are retried at the next tick: the lease leaves room
// for two more.
type renewer struct {
	stopOnce sync.Once
	stopC    chan struct{}
	done     chan struct{}
	err      error // the errLost failure, once it happened; read after done
}

// startRenewer calls renew every `every` from a goroutine of its own, with
// a context that outlives ctx's cancellation (the lock is held until
// Release, not until the acquiring context ends) but not stop. every <= 0
// starts nothing.
func startRenewer(ctx context.Context, every time.Duration, renew func(context.Context) error) *renewer {
	r := &renewer{stopC: make(chan struct{}), done: make(chan struct{})}
	if every <= 0 {
		close(r.done)
		return r
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(r.done)
		defer cancel()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stopC:
				return
			case <-t.C:
			}
			cctx, ccancel := context.WithTimeout(ctx, every)
			// stop cancels a renewal in flight, so Release does not
			// wait out a slow call.
			go func() {
				select {
				case <-r.stopC:
					ccancel()
				case <-cctx.Done():
				}
			}()
			err := renew(cctx)
			ccancel()
			if errors.Is(err, errLost) {
				r.err = err
				return
			}
		}
	}()
	return r
}

// stop ends the renewal, waits for it, and returns the errLost failure if
// there was one.
func (r *renewer) stop() error {
	r.stopOnce.Do(func() { close(r.stopC) })
	<-r.done
	return r.err
}
