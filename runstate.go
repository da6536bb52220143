package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/lock"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// stateDir is the tool's state directory: default journals and the
// account lock files live there, shared by every run started in the
// same working directory.
const stateDir = ".s3baseline"

func lockFlag() cli.Flag {
	return &cli.StringFlag{Name: "lock", Usage: "take the account's lock as an object under `s3://BUCKET/PREFIX` (shared by every machine) instead of the lock file under ./" + stateDir + "/locks"}
}

// lockAccounts takes the lock of every account before the first write,
// in one order (so two runs over overlapping accounts cannot each hold
// one the other waits for), and returns the release of all of them. A lock
// someone else holds is the error, naming the holder; the locks taken so
// far are released.
func lockAccounts(c *cli.Context, e *env, prov *awsprovider.Provider, command string, accounts []string) (func(), error) {
	accounts = slices.Compact(slices.Sorted(slices.Values(accounts)))
	var uri *lock.S3URI
	if s := c.String("lock"); s != "" {
		u, err := lock.ParseS3URI(s)
		if err != nil {
			return nil, fmt.Errorf("--lock: %w", err)
		}
		uri = &u
	}
	var held []lock.Lock
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			if err := held[i].Release(context.WithoutCancel(c.Context)); err != nil {
				e.logError("release lock: " + err.Error())
			}
		}
	}
	for _, acct := range accounts {
		h := lock.Holder{Command: command + " " + strings.Join(c.Args().Slice(), " ")}
		var l lock.Lock
		var err error
		if uri != nil {
			l, err = lock.S3(c.Context, prov, *uri, acct, h, 0)
		} else {
			l, err = lock.File(c.Context, filepath.Join(stateDir, "locks"), acct, h, 0)
		}
		if err != nil {
			release()
			return nil, err
		}
		if note := l.Note(); note != "" {
			e.info(note)
		}
		held = append(held, l)
	}
	return release, nil
}

// lockAccountsWait is lockAccounts that waits up to wait for a lock
// another run holds (an event-driven run queues behind the run fixing the
// same account, then plans what that run left).
func lockAccountsWait(c *cli.Context, e *env, prov *awsprovider.Provider, command string, accounts []string, wait time.Duration) (func(), error) {
	deadline := time.Now().Add(wait)
	told := false
	for {
		release, err := lockAccounts(c, e, prov, command, accounts)
		if err == nil || !errors.Is(err, lock.ErrHeld) || time.Now().After(deadline) {
			return release, err
		}
		if !told {
			e.info("waiting for the lock: " + err.Error())
			told = true
		}
		select {
		case <-c.Context.Done():
			return nil, c.Context.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// planAccounts are the accounts a plan writes to.
func planAccounts(p *plan.Plan) []string {
	if len(p.Accounts) == 0 {
		return []string{p.Account}
	}
	var out []string
	for _, a := range p.Accounts {
		out = append(out, a.Account)
	}
	return out
}

// journalAccounts are the accounts a rollback of records writes to; a
// record without one is the caller's.
func journalAccounts(steps []apply.RollbackStep, caller string) []string {
	var out []string
	for _, s := range steps {
		acct := s.Record.Account
		if acct == "" {
			acct = caller
		}
		out = append(out, acct)
	}
	return out
}

// openJournal opens --journal: a file (default a new one under
// ./.s3baseline), or under s3://BUCKET/PREFIX a new prefix of its own,
// PREFIX/KIND-TIME-PID/, so runs sharing the flag never share a journal.
func openJournal(c *cli.Context, e *env, prov *awsprovider.Provider, kind string) (*apply.Journal, error) {
	if s := c.String("journal"); strings.HasPrefix(s, "s3://") {
		u, err := lock.ParseS3URI(s)
		if err != nil {
			return nil, fmt.Errorf("--journal: %w", err)
		}
		return apply.OpenJournalS3(c.Context, prov, u.Bucket, apply.JournalPrefix(u.Prefix, kind, e.now(), os.Getpid()))
	}
	return apply.OpenJournal(journalPath(c, e, kind))
}

// readJournal reads a journal file or an s3://BUCKET/PREFIX journal.
func readJournal(ctx context.Context, prov func() (*awsprovider.Provider, error), path string) ([]apply.Record, error) {
	if !strings.HasPrefix(path, "s3://") {
		return apply.ReadJournal(path)
	}
	u, err := lock.ParseS3URI(path)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	p, err := prov()
	if err != nil {
		return nil, err
	}
	return apply.ReadJournalS3(ctx, p, u.Bucket, u.Prefix)
}
