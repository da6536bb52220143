package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const account = "111122223333"

func hostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// seed writes a lock file as another run would have left it.
func seed(t *testing.T, dir string, body []byte, mtime time.Time) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, account+".lock")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// deadPID is the pid of a process of this host that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestFileHeldAndRelease(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "locks")
	first, err := File(ctx, dir, account, Holder{Command: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Note() != "" {
		t.Errorf("Note of a free lock = %q, want none", first.Note())
	}
	path := filepath.Join(dir, account+".lock")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("locks folder: %v, %v; want mode 0700", fi, err)
	}

	_, err = File(ctx, dir, account, Holder{Command: "rollback"}, 0)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second File = %v, want a *HeldError", err)
	}
	if held.Holder.Command != "apply" || held.Holder.PID != os.Getpid() || held.Holder.Host != hostname(t) || held.Where != path {
		t.Errorf("HeldError = %+v, want the first run's holder and the path", held)
	}
	want := fmt.Sprintf("account %s is locked by apply on host %s (pid %d) since ", account, hostname(t), os.Getpid())
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "lock file "+path) || strings.Contains(msg, "\n") {
		t.Errorf("message %q\nwant one line starting %q and naming %s", msg, want, path)
	}

	if err := first.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Release: %v, want it gone", err)
	}
	if err := first.Release(ctx); err != nil {
		t.Errorf("second Release: %v, want nothing done", err)
	}
	again, err := File(ctx, dir, account, Holder{Command: "rollback"}, 0)
	if err != nil {
		t.Fatalf("File after Release: %v", err)
	}
	if err := again.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFileStale(t *testing.T) {
	host := hostname(t)
	lease := time.Minute
	now := time.Now()
	holder := func(host string, pid int, expires time.Time) []byte {
		return encode(Holder{Host: host, PID: pid, Command: "apply", Account: account, Started: now.Add(-time.Hour), Expires: expires, Token: "theirs"})
	}
	cases := map[string]struct {
		reason   string
		body     []byte
		mtime    time.Time
		takeover string // the Note says this; "" = refused
		refused  string // the HeldError says this
	}{
		"dead pid":          {"a holder of this host whose process is gone is stale", holder(host, deadPID(t), now.Add(time.Hour)), time.Time{}, "no longer running", ""},
		"expired lease":     {"a holder whose lease ended is stale, wherever it ran", holder("elsewhere", 1, now.Add(-time.Second)), time.Time{}, "lease ended", ""},
		"live here":         {"a live process of this host holds it", holder(host, os.Getpid(), now.Add(time.Hour)), time.Time{}, "", "pid " + fmt.Sprint(os.Getpid())},
		"other host":        {"a process of another host cannot be checked: its lease holds", holder("elsewhere", deadPID(t), now.Add(time.Hour)), time.Time{}, "", "on host elsewhere"},
		"pid zero":          {"a holder without a pid is not taken for dead (kill(0) would signal our group)", holder(host, 0, now.Add(time.Hour)), time.Time{}, "", "pid 0"},
		"empty fresh":       {"an empty file just written is a holder between create and write", nil, time.Time{}, "", "cannot be read (empty)"},
		"empty old":         {"an empty file older than the lease is a crashed holder's", nil, now.Add(-2 * lease), "unreadable (empty)", ""},
		"garbage fresh":     {"a damaged file is held until the lease passes", []byte(`{"host":`), time.Time{}, "", "cannot be read (not a lock"},
		"garbage old":       {"and stale after", []byte(`{"host":`), now.Add(-2 * lease), "unreadable (not a lock", ""},
		"no token old lock": {"JSON without a token is no lock of ours", []byte(`{"host":"x"}`), now.Add(-2 * lease), "unreadable (no token)", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "locks")
			path := seed(t, dir, tc.body, tc.mtime)
			l, err := File(context.Background(), dir, account, Holder{Command: "rollback"}, lease)
			if tc.takeover == "" {
				var held *HeldError
				if !errors.As(err, &held) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("%s\nFile = %v, want a HeldError saying %q", tc.reason, err, tc.refused)
				}
				if b, _ := os.ReadFile(path); string(b) != string(tc.body) {
					t.Errorf("%s\nthe refused run changed the lock file to %q", tc.reason, b)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nFile = %v, want a takeover", tc.reason, err)
			}
			defer l.Release(context.Background())
			if !strings.Contains(l.Note(), tc.takeover) || !strings.Contains(l.Note(), path) {
				t.Errorf("%s\nNote = %q, want it to say %q and name %s", tc.reason, l.Note(), tc.takeover, path)
			}
			b, _ := os.ReadFile(path)
			if h, bad := decode(b); bad != "" || h.Command != "rollback" || h.PID != os.Getpid() {
				t.Errorf("%s\nlock file after takeover = %q", tc.reason, b)
			}
		})
	}
}

// TestFileRace: of runs racing for a free lock, or for a stale one, exactly
// one gets it.
func TestFileRace(t *testing.T) {
	const rounds, runners = 20, 4
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprint("stale=", stale), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "locks")
			for round := range rounds {
				if stale {
					seed(t, dir, encode(Holder{Host: "elsewhere", PID: 1, Token: "old", Expires: time.Now().Add(-time.Minute)}), time.Time{})
				}
				locks := make([]Lock, runners)
				errs := make([]error, runners)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range runners {
					wg.Go(func() {
						<-start
						locks[i], errs[i] = File(context.Background(), dir, account, Holder{Command: fmt.Sprint("run", i)}, time.Minute)
					})
				}
				close(start)
				wg.Wait()
				winners := 0
				for i, err := range errs {
					switch {
					case err == nil:
						winners++
						if err := locks[i].Release(context.Background()); err != nil {
							t.Errorf("round %d: Release: %v", round, err)
						}
					case !errors.Is(err, ErrHeld):
						t.Errorf("round %d: run %d: %v, want ErrHeld", round, i, err)
					}
				}
				if winners != 1 {
					t.Fatalf("round %d: %d winners, want 1: %v", round, winners, errs)
				}
			}
		})
	}
}

// TestFileLease: a held lock's lease is renewed, so it does not go stale
// while its run lasts; one not renewed does, is taken over, and its
// Release then says so instead of removing the new holder's file.
func TestFileLease(t *testing.T) {
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	t.Run("renewed", func(t *testing.T) {
		dir := t.TempDir()
		l, err := acquireFile(ctx, dir, account, Holder{Host: "elsewhere", Command: "apply"}, lease, lease/3)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * lease)
		if _, err := File(ctx, dir, account, Holder{Command: "rollback"}, lease); !errors.Is(err, ErrHeld) {
			t.Fatalf("File after 3 leases of a renewed lock = %v, want ErrHeld", err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		assertStopped(t, l.(*fileLock).renewer)
	})
	t.Run("expired", func(t *testing.T) {
		dir := t.TempDir()
		// Host "elsewhere": a pid of this host would be seen alive.
		old, err := acquireFile(ctx, dir, account, Holder{Host: "elsewhere", Command: "apply"}, lease, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(lease + 50*time.Millisecond)
		l, err := File(ctx, dir, account, Holder{Command: "rollback"}, time.Minute)
		if err != nil {
			t.Fatalf("File after the lease = %v, want a takeover", err)
		}
		defer l.Release(ctx)
		if !strings.Contains(l.Note(), "lease ended") {
			t.Errorf("Note = %q", l.Note())
		}
		err = old.Release(ctx)
		if err == nil || !strings.Contains(err.Error(), "was taken over by rollback on host "+hostname(t)) {
			t.Errorf("old holder's Release = %v, want it to say who took over", err)
		}
		if _, err := os.Stat(filepath.Join(dir, account+".lock")); err != nil {
			t.Errorf("the old holder's Release removed the new holder's file: %v", err)
		}
	})
}

func assertStopped(t *testing.T, r *renewer) {
	t.Helper()
	select {
	case <-r.done:
	default:
		t.Error("renewal goroutine still running after Release")
	}
}

const helperEnv = "S3BASELINE_LOCK_HELPER_DIR"

// TestFileLockHelperProcess is not a test: TestFileOtherProcess runs the
// test binary again to take the lock from a second process.
func TestFileLockHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestFileOtherProcess")
	}
	l, err := File(context.Background(), dir, account, Holder{Command: "rollback"}, 0)
	if err == nil {
		err = l.Release(context.Background())
	}
	fmt.Printf("\nlock: %v\n", err)
}

func TestFileOtherProcess(t *testing.T) {
	other := func(t *testing.T, dir string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileLockHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		_, res, ok := strings.Cut(string(out), "\nlock: ")
		if !ok {
			t.Fatalf("helper process said nothing of the lock:\n%s", out)
		}
		res, _, _ = strings.Cut(res, "\n")
		return res
	}
	dir := filepath.Join(t.TempDir(), "locks")
	l, err := File(context.Background(), dir, account, Holder{Command: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("account %s is locked by apply on host %s (pid %d)", account, hostname(t), os.Getpid())
	if got := other(t, dir); !strings.HasPrefix(got, want) {
		t.Errorf("other process while held: %q, want %q...", got, want)
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := other(t, dir); got != "<nil>" {
		t.Errorf("other process after Release: %q, want the lock", got)
	}
}

func TestFileBadAccount(t *testing.T) {
	for _, a := range []string{"", ".", "..", "../etc", "a/b", "1111 2222"} {
		if _, err := File(context.Background(), t.TempDir(), a, Holder{}, 0); err == nil || errors.Is(err, ErrHeld) {
			t.Errorf("File(account %q) = %v, want it refused", a, err)
		}
	}
}
