package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File takes the account's lock file, <dir>/<account>.lock (dir is the
// state directory's locks folder, ".s3baseline/locks"), for h, with the
// lease given (0: DefaultLease). It is refused with a *HeldError while
// another run holds it.
//
// A lock file is stale, and taken over, when its holder ran on this host
// and its process is gone, when its lease has ended, or when it cannot be
// read (a holder crashed between creating and writing it) and was last
// written longer than the lease ago. The lease is renewed every third of
// it until Release, so a live holder on another host sharing dir keeps it.
//
// Every change to a lock file (create, take over, renew, remove) happens
// under an advisory lock on <dir>/.guard, held for that change only, so
// two runs that both find a lock stale cannot both take it over; the
// kernel drops that lock with its process, so it never goes stale itself.
// (On systems other than Linux there is no guard: the lock file is then
// made with O_EXCL alone, and a takeover race could let two runs in.)
func File(ctx context.Context, dir, account string, h Holder, lease time.Duration) (Lock, error) {
	return acquireFile(ctx, dir, account, h, lease, leaseOrDefault(lease)/3)
}

// acquireFile is File with the renewal period apart (0: no renewal), so
// tests can let a lease run out.
func acquireFile(ctx context.Context, dir, account string, h Holder, lease, renewEvery time.Duration) (Lock, error) {
	lease = leaseOrDefault(lease)
	h, err := prepare(h, account, lease, time.Now())
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, account+".lock")
	op := "take lock file " + path
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	unlock, err := guard(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer unlock()

	note := ""
	// Without the guard another run may change the file between two
	// steps; a few rounds settle it.
	for attempt := 0; ; attempt++ {
		if attempt == 3 {
			return nil, fmt.Errorf("%s: it kept changing while being taken", op)
		}
		err := create(path, encode(h))
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		why, err := stale(path, h.Host, lease, time.Now())
		if err != nil {
			var held *HeldError
			if errors.As(err, &held) {
				held.Account = account
				held.Where = path
				held.Lease = lease
				return nil, held
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			// Gone since: without the guard, released meanwhile.
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: remove stale lock: %w", op, err)
		}
		note = fmt.Sprintf("took over the stale lock of account %s (%s); lock file %s", account, why, path)
	}
	l := &fileLock{dir: dir, path: path, holder: h, note: note}
	l.renewer = startRenewer(ctx, renewEvery, func(ctx context.Context) error { return l.renew(ctx, lease) })
	return l, nil
}

// create makes path with body, only if it does not exist.
func create(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // ours, half-written
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// stale says why the lock file at path may be taken over, or returns a
// *HeldError (Account and Where left for the caller) when it may not.
func stale(path, host string, lease time.Duration, now time.Time) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	cur, bad := decode(b)
	if bad != "" {
		fi, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		if now.Sub(fi.ModTime()) > lease {
			return fmt.Sprintf("unreadable (%s), last written %s", bad, stamp(fi.ModTime())), nil
		}
		return "", &HeldError{Unreadable: bad, Modified: fi.ModTime()}
	}
	who := fmt.Sprintf("%s on host %s (pid %d) since %s", cur.Command, cur.Host, cur.PID, stamp(cur.Started))
	if cur.Host == host && cur.PID > 0 && !processAlive(cur.PID) {
		return who + ", a process no longer running", nil
	}
	if !now.Before(cur.Expires) {
		return who + ", whose lease ended " + stamp(cur.Expires), nil
	}
	return "", &HeldError{Holder: cur}
}

type fileLock struct {
	dir, path string
	note      string
	renewer   *renewer

	mu       sync.Mutex
	holder   Holder // as last written
	released bool
}

func (l *fileLock) Note() string { return l.note }

// renew writes the lease anew, if the file still holds our token.
func (l *fileLock) renew(ctx context.Context, lease time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	unlock, err := guard(ctx, l.dir)
	if err != nil {
		return fmt.Errorf("renew lock file %s: %w", l.path, err)
	}
	defer unlock()
	if err := l.stillOurs(); err != nil {
		return err
	}
	h := l.holder
	h.Expires = time.Now().Add(lease).UTC()
	// A new file renamed over the old, so a crash mid-write leaves the
	// old lease, not a damaged file.
	tmp := l.path + "." + h.Token + ".tmp"
	_ = os.Remove(tmp)
	if err := create(tmp, encode(h)); err != nil {
		return fmt.Errorf("renew lock file %s: %w", l.path, err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("renew lock file %s: %w", l.path, err)
	}
	l.holder = h
	return nil
}

// stillOurs is nil when the lock file holds our token, an errLost error
// naming what happened otherwise. The guard must be held.
func (l *fileLock) stillOurs() error {
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lock file %s of account %s was removed while this run held it: %w", l.path, l.holder.Account, errLost)
	}
	if err != nil {
		return fmt.Errorf("read lock file %s: %w", l.path, err)
	}
	return stillHeld("lock file "+l.path, l.holder, b)
}

func (l *fileLock) Release(ctx context.Context) error {
	return releaseOnce(&l.mu, &l.released, l.renewer, func() error {
		unlock, err := guard(ctx, l.dir)
		if err != nil {
			return fmt.Errorf("release lock file %s: %w", l.path, err)
		}
		defer unlock()
		if err := l.stillOurs(); err != nil {
			return fmt.Errorf("release lock: %w", err)
		}
		if err := os.Remove(l.path); err != nil {
			return fmt.Errorf("release lock file %s: %w", l.path, err)
		}
		return nil
	})
}
