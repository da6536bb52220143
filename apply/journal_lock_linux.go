package apply

import (
	"errors"
	"os"
	"syscall"
)

// lockJournal takes an exclusive advisory lock on the journal file f,
// without waiting: errJournalLocked when another open file holds it. The
// lock lasts until f is closed.
func lockJournal(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(ferr, syscall.EWOULDBLOCK) {
		return errJournalLocked
	}
	return ferr
}
