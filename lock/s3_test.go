package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/fixtures/testenv"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

const lockScenario = `{
  "account_id": "111122223333",
  "caller_arn": "arn:aws:iam::111122223333:role/ci",
  "buckets": [{"name": "team-locks", "region": "eu-west-1"}]
}`

const lockKey = "ci/locks/" + account + ".lock"

var lockURI = S3URI{Bucket: "team-locks", Prefix: "ci/"}

// isolateEnv gives the test stub credentials and hides the machine's AWS
// files and variables, so nothing on the host can leak into a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	testenv.IsolateAWS(t)
}

// serve starts the emulator and a real provider aimed at it over HTTP.
func serve(t *testing.T, opts emulator.Options) (*emulator.Server, *awsprovider.Provider) {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(lockScenario))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start("127.0.0.1:0", sc, opts)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	isolateEnv(t)
	p, err := awsprovider.New(context.Background(), awsprovider.Options{
		EndpointURL: srv.URL(), MaxAttempts: 2, CallTimeout: 10 * time.Second, PropagationTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, p
}

func stored(t *testing.T, srv *emulator.Server) (Holder, bool) {
	t.Helper()
	b, _, ok := srv.Object(lockURI.Bucket, lockKey)
	if !ok {
		return Holder{}, false
	}
	h, bad := decode(b)
	if bad != "" {
		t.Fatalf("lock object %q: %s", b, bad)
	}
	return h, true
}

func TestS3AcquireRelease(t *testing.T) {
	ctx := context.Background()
	srv, p := serve(t, emulator.Options{})
	l, err := S3(ctx, p, lockURI, account, Holder{Host: "ci-1", PID: 42, Command: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := stored(t, srv)
	if !ok || h.Host != "ci-1" || h.PID != 42 || h.Command != "apply" || h.Account != account || h.Token == "" {
		t.Fatalf("lock object = %+v (present %v)", h, ok)
	}
	if d := time.Until(h.Expires); d < DefaultLease-time.Minute || d > DefaultLease {
		t.Errorf("lease ends in %v, want about %v", d, DefaultLease)
	}

	_, err = S3(ctx, p, lockURI, account, Holder{Host: "ci-2", PID: 7, Command: "rollback"}, 0)
	var held *HeldError
	if !errors.As(err, &held) || held.Holder.Host != "ci-1" || held.Holder.Token != h.Token {
		t.Fatalf("second S3 = %v, want a HeldError naming ci-1", err)
	}
	want := "account " + account + " is locked by apply on host ci-1 (pid 42) since "
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "lock object s3://team-locks/"+lockKey) {
		t.Errorf("message %q, want %q... naming the object", msg, want)
	}

	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, ok := stored(t, srv); ok {
		t.Error("lock object still there after Release")
	}
	assertStopped(t, l.(*s3Lock).renewer)
	again, err := S3(ctx, p, lockURI, account, Holder{Command: "rollback"}, 0)
	if err != nil {
		t.Fatalf("S3 after Release: %v", err)
	}
	if err := again.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestS3Lease: a held lock's lease is renewed; one not renewed goes stale,
// is taken over, and its Release then fails and leaves the new holder's
// object.
func TestS3Lease(t *testing.T) {
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	t.Run("renewed", func(t *testing.T) {
		srv, p := serve(t, emulator.Options{})
		l, err := S3(ctx, p, lockURI, account, Holder{Command: "apply"}, lease)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * lease)
		if _, err := S3(ctx, p, lockURI, account, Holder{Command: "rollback"}, lease); !errors.Is(err, ErrHeld) {
			t.Fatalf("S3 after 3 leases of a renewed lock = %v, want ErrHeld", err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("Release after renewals: %v", err)
		}
		if _, ok := stored(t, srv); ok {
			t.Error("lock object still there after Release")
		}
		assertStopped(t, l.(*s3Lock).renewer)
	})
	t.Run("expired", func(t *testing.T) {
		srv, p := serve(t, emulator.Options{})
		old, err := acquireS3(ctx, p, lockURI, account, Holder{Host: "ci-1", Command: "apply"}, lease, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(lease + 50*time.Millisecond)
		l, err := S3(ctx, p, lockURI, account, Holder{Host: "ci-2", Command: "rollback"}, time.Minute)
		if err != nil {
			t.Fatalf("S3 after the lease = %v, want a takeover", err)
		}
		if !strings.Contains(l.Note(), "apply on host ci-1") || !strings.Contains(l.Note(), "lease ended") {
			t.Errorf("Note = %q", l.Note())
		}
		err = old.Release(ctx)
		if err == nil || !strings.Contains(err.Error(), "was taken over by rollback on host ci-2") {
			t.Errorf("old holder's Release = %v, want it to say who took over", err)
		}
		if h, ok := stored(t, srv); !ok || h.Host != "ci-2" {
			t.Errorf("after the old holder's Release the object is %+v (present %v), want ci-2's", h, ok)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestS3Race: of runs racing for a free lock, or a stale one, all in
// flight together, exactly one gets it.
func TestS3Race(t *testing.T) {
	const runners = 5
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprint("stale=", stale), func(t *testing.T) {
			srv, p := serve(t, emulator.Options{Latency: 100 * time.Millisecond})
			if stale {
				old := encode(Holder{Host: "gone", PID: 1, Command: "apply", Token: "old", Expires: time.Now().Add(-time.Minute)})
				if _, err := srv.PutObjectDirect(lockURI.Bucket, lockKey, old); err != nil {
					t.Fatal(err)
				}
			}
			locks := make([]Lock, runners)
			errs := make([]error, runners)
			var wg sync.WaitGroup
			for i := range runners {
				wg.Go(func() {
					locks[i], errs[i] = S3(context.Background(), p, lockURI, account, Holder{Host: fmt.Sprint("ci-", i)}, time.Minute)
				})
			}
			wg.Wait()
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
					if h, _ := stored(t, srv); h.Host != fmt.Sprint("ci-", i) {
						t.Errorf("ci-%d won, but the object holds %+v", i, h)
					}
					if stale && locks[i].Note() == "" {
						t.Errorf("ci-%d took a stale lock over without a Note", i)
					}
					defer locks[i].Release(context.Background())
				case !errors.Is(err, ErrHeld):
					t.Errorf("ci-%d: %v, want ErrHeld", i, err)
				}
			}
			if winners != 1 {
				t.Errorf("%d winners, want 1: %v", winners, errs)
			}
		})
	}
}

// TestS3OwnWrite: a conditional write the SDK retried after its answer was
// lost meets its own object; finding our token there, we hold the lock.
func TestS3OwnWrite(t *testing.T) {
	srv, p := serve(t, emulator.Options{})
	mine := Holder{Host: "ci-1", PID: 1, Command: "apply", Token: "mine", Expires: time.Now().Add(time.Hour)}
	if _, err := srv.PutObjectDirect(lockURI.Bucket, lockKey, encode(mine)); err != nil {
		t.Fatal(err)
	}
	l, err := S3(context.Background(), p, lockURI, account, Holder{Token: "mine"}, 0)
	if err != nil {
		t.Fatalf("S3 meeting its own object = %v, want the lock", err)
	}
	if l.Note() != "" {
		t.Errorf("Note = %q, want none: nothing was taken over", l.Note())
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := stored(t, srv); ok {
		t.Error("lock object still there after Release")
	}
}

func TestS3Unreadable(t *testing.T) {
	srv, p := serve(t, emulator.Options{})
	if _, err := srv.PutObjectDirect(lockURI.Bucket, lockKey, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	_, err := S3(context.Background(), p, lockURI, account, Holder{}, 0)
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "cannot be read") || !strings.Contains(err.Error(), "delete the lock object") {
		t.Errorf("S3 on a damaged object = %v, want a HeldError saying so", err)
	}
}

func TestParseS3URI(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    S3URI
		wantErr string
	}{
		"bucket":          {in: "s3://team-locks", want: S3URI{Bucket: "team-locks"}},
		"bucket slash":    {in: "s3://team-locks/", want: S3URI{Bucket: "team-locks"}},
		"prefix":          {in: "s3://team-locks/ci", want: S3URI{Bucket: "team-locks", Prefix: "ci/"}},
		"prefix slash":    {in: "s3://team-locks/ci/prod/", want: S3URI{Bucket: "team-locks", Prefix: "ci/prod/"}},
		"no scheme":       {in: "team-locks/ci", wantErr: "want s3://BUCKET"},
		"other scheme":    {in: "https://team-locks/ci", wantErr: "want s3://BUCKET"},
		"empty":           {in: "", wantErr: "want s3://BUCKET"},
		"no bucket":       {in: "s3:///ci", wantErr: "no bucket"},
		"upper case":      {in: "s3://Team-Locks", wantErr: "lower-case"},
		"short":           {in: "s3://ab", wantErr: "3 to 63"},
		"dash end":        {in: "s3://locks-", wantErr: "start and end"},
		"empty segment":   {in: "s3://team-locks//ci", wantErr: "empty path segment"},
		"empty segment 2": {in: "s3://team-locks/ci//x", wantErr: "empty path segment"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseS3URI(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
					t.Fatalf("ParseS3URI(%q) = %+v, %v; want an error naming the input and saying %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseS3URI(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if got.key(account) != tc.want.Prefix+"locks/"+account+".lock" {
				t.Errorf("key = %q", got.key(account))
			}
		})
	}
}
