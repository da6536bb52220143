package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// processAlive says whether a process of this host has the pid. One that
// exists but is another user's (EPERM) is alive.
func processAlive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// guardName is the file in a locks folder whose advisory lock guards every
// change to the lock files there.
const guardName = ".guard"

// guard takes the exclusive advisory lock on dir's guard file, waiting
// while another holds it (polling, so ctx can end the wait), and returns
// its release.
func guard(ctx context.Context, dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, guardName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open guard: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock guard: %w", err)
	}
	for {
		var ferr error
		if err := rc.Control(func(fd uintptr) {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
		}); err != nil {
			ferr = err
		}
		switch {
		case ferr == nil:
			// Closing the file drops the lock.
			return func() { _ = f.Close() }, nil
		case errors.Is(ferr, syscall.EINTR):
			continue
		case !errors.Is(ferr, syscall.EWOULDBLOCK):
			f.Close()
			return nil, fmt.Errorf("lock guard: %w", ferr)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for guard: %w", ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}
