package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// ObjectStore is the object calls the S3 lock makes; *aws.Provider has
// them. A condition that does not hold must match
// awsprovider.ErrPreconditionFailed, a missing key
// awsprovider.ErrObjectNotFound.
type ObjectStore interface {
	PutObject(ctx context.Context, bucket, key string, body []byte, cond awsprovider.PutCondition) (string, error)
	GetObject(ctx context.Context, bucket, key string) ([]byte, string, error)
	DeleteObject(ctx context.Context, bucket, key, ifMatch string) error
}

var _ ObjectStore = (*awsprovider.Provider)(nil)

// S3URI is where lock objects live: the --lock s3://BUCKET/PREFIX.
type S3URI struct {
	Bucket string
	Prefix string // "" or ending in "/"
}

func (u S3URI) String() string { return "s3://" + u.Bucket + "/" + u.Prefix }

// key is the account's lock object.
func (u S3URI) key(account string) string { return u.Prefix + "locks/" + account + ".lock" }

// ParseS3URI reads s3://BUCKET or s3://BUCKET/PREFIX; the prefix is made to
// end with "/".
func ParseS3URI(s string) (S3URI, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return S3URI{}, fmt.Errorf("S3 location %q: want s3://BUCKET or s3://BUCKET/PREFIX", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return S3URI{}, fmt.Errorf("S3 location %q: %w", s, err)
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "//") {
		return S3URI{}, fmt.Errorf("S3 location %q: the prefix has an empty path segment", s)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return S3URI{Bucket: bucket, Prefix: prefix}, nil
}

// checkBucket applies S3's general purpose bucket naming rules that a
// typo breaks: 3-63 characters of lower-case letters, digits, '.' and '-',
// starting and ending with a letter or digit.
func checkBucket(b string) error {
	if b == "" {
		return errors.New("no bucket")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q is not 3 to 63 characters long", b)
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return fmt.Errorf("bucket name %q may hold only lower-case letters, digits, '.' and '-'", b)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", b)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// S3 takes the account's lock object, <prefix>locks/<account>.lock in the
// bucket uri names, for h, with the lease given (0: DefaultLease). It is
// refused with a *HeldError while another run holds it.
//
// The object is made with If-None-Match: *, so of runs racing for a free
// lock one wins. A lock whose lease has ended is taken over with If-Match
// on the ETag read, so of runs racing for a stale lock one wins too. The
// lease is renewed (If-Match again) every third of it until Release, and
// Release deletes the object only if it is still ours (If-Match). The
// leases are compared with this host's clock.
func S3(ctx context.Context, store ObjectStore, uri S3URI, account string, h Holder, lease time.Duration) (Lock, error) {
	return acquireS3(ctx, store, uri, account, h, lease, leaseOrDefault(lease)/3)
}

// acquireS3 is S3 with the renewal period apart (0: no renewal), so tests
// can let a lease run out.
func acquireS3(ctx context.Context, store ObjectStore, uri S3URI, account string, h Holder, lease, renewEvery time.Duration) (Lock, error) {
	lease = leaseOrDefault(lease)
	h, err := prepare(h, account, lease, time.Now())
	if err != nil {
		return nil, err
	}
	key := uri.key(account)
	where := "s3://" + uri.Bucket + "/" + key
	op := "take lock object " + where
	l := &s3Lock{store: store, bucket: uri.Bucket, key: key, where: where, holder: h}
	body := encode(h)
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			return nil, fmt.Errorf("%s: it kept changing while being taken", op)
		}
		etag, err := store.PutObject(ctx, uri.Bucket, key, body, awsprovider.PutCondition{IfNoneMatch: true})
		if err == nil {
			l.etag = etag
			break
		}
		if !errors.Is(err, awsprovider.ErrPreconditionFailed) {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		b, curETag, err := store.GetObject(ctx, uri.Bucket, key)
		if errors.Is(err, awsprovider.ErrObjectNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read holder: %w", op, err)
		}
		cur, bad := decode(b)
		if bad != "" {
			// S3 writes an object whole, so this is no crashed
			// holder's half-write: leave it to a person.
			return nil, &HeldError{Account: account, Where: where, Unreadable: bad, Lease: lease}
		}
		if cur.Token == h.Token {
			// Our own write, retried by the SDK after its answer
			// was lost, met itself.
			l.etag = curETag
			break
		}
		if time.Now().Before(cur.Expires) {
			return nil, &HeldError{Account: account, Holder: cur, Where: where, Lease: lease}
		}
		etag, err = store.PutObject(ctx, uri.Bucket, key, body, awsprovider.PutCondition{IfMatch: curETag})
		if err == nil {
			l.etag = etag
			l.note = fmt.Sprintf("took over the stale lock of account %s (%s on host %s (pid %d) since %s, whose lease ended %s); lock object %s",
				account, cur.Command, cur.Host, cur.PID, stamp(cur.Started), stamp(cur.Expires), where)
			break
		}
		if !errors.Is(err, awsprovider.ErrPreconditionFailed) {
			return nil, fmt.Errorf("%s: take over stale lock: %w", op, err)
		}
		// Another run took it over, renewed it or released it first
		// (or our retried write met itself): look again.
	}
	l.renewer = startRenewer(ctx, renewEvery, func(ctx context.Context) error { return l.renew(ctx, lease) })
	return l, nil
}

type s3Lock struct {
	store       ObjectStore
	bucket, key string
	where       string
	note        string
	renewer     *renewer

	mu       sync.Mutex
	holder   Holder // as last written
	etag     string // of the object as last written
	released bool
}

func (l *s3Lock) Note() string { return l.note }

func (l *s3Lock) renew(ctx context.Context, lease time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.holder
	h.Expires = time.Now().Add(lease).UTC()
	etag, err := l.store.PutObject(ctx, l.bucket, l.key, encode(h), awsprovider.PutCondition{IfMatch: l.etag})
	if err == nil {
		l.holder, l.etag = h, etag
		return nil
	}
	if !errors.Is(err, awsprovider.ErrPreconditionFailed) {
		return fmt.Errorf("renew lock object %s: %w", l.where, err)
	}
	// Either another run took the lock, or our retried write met itself.
	if err := l.stillOurs(ctx); err != nil {
		return err
	}
	l.holder = h
	return nil
}

// stillOurs reads the lock object: nil (and l.etag brought up to date)
// when it holds our token, an errLost error naming what happened
// otherwise.
func (l *s3Lock) stillOurs(ctx context.Context) error {
	b, etag, err := l.store.GetObject(ctx, l.bucket, l.key)
	if errors.Is(err, awsprovider.ErrObjectNotFound) {
		return fmt.Errorf("lock object %s of account %s was deleted while this run held it: %w", l.where, l.holder.Account, errLost)
	}
	if err != nil {
		return fmt.Errorf("read lock object %s: %w", l.where, err)
	}
	if err := stillHeld("lock object "+l.where, l.holder, b); err != nil {
		return err
	}
	l.etag = etag
	return nil
}

func (l *s3Lock) Release(ctx context.Context) error {
	return releaseOnce(&l.mu, &l.released, l.renewer, func() error {
		err := l.store.DeleteObject(ctx, l.bucket, l.key, l.etag)
		if err == nil {
			return nil
		}
		if errors.Is(err, awsprovider.ErrObjectNotFound) {
			// Gone: most likely our own delete, retried by the SDK after
			// its answer was lost. Either way the account is free.
			return nil
		}
		if !errors.Is(err, awsprovider.ErrPreconditionFailed) {
			return fmt.Errorf("release lock object %s: %w", l.where, err)
		}
		if err := l.stillOurs(ctx); err != nil {
			return fmt.Errorf("release lock: %w", err)
		}
		// Ours after all (a renewal's answer was lost): delete what is there.
		if err := l.store.DeleteObject(ctx, l.bucket, l.key, l.etag); err != nil {
			return fmt.Errorf("release lock object %s: %w", l.where, err)
		}
		return nil
	})
}
