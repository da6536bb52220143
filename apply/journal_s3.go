package apply

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A journal in S3 keeps each record as its own object,
// <prefix>/<seq as %08d>.json, holding the record's line without a
// newline, so that a run's journal survives the disk of the machine (or
// pod) it ran on. Each record is created with If-None-Match: *, which
// stands in for the file journal's lock: of two runs writing one prefix,
// only one can create record N, and the other stops before its write.

// ObjectStore is what a journal in S3 needs of S3. Each call is bounded by
// the store's own timeout: a journal write is not given up because the
// run was interrupted.
type ObjectStore interface {
	// CreateObject stores body under key only if the key does not exist
	// (If-None-Match: *); created is false, with no error, when it did.
	CreateObject(ctx context.Context, bucket, key string, body []byte) (created bool, err error)
	// GetObject reads an object whole, with its ETag.
	GetObject(ctx context.Context, bucket, key string) (body []byte, etag string, err error)
	// ListObjects lists every key under prefix.
	ListObjects(ctx context.Context, bucket, prefix string) ([]string, error)
}

// s3ReadConcurrency bounds the records read at once: a journal of a large
// apply holds thousands, and one GET at a time would take minutes.
const s3ReadConcurrency = 16

// s3Journal is where a journal in S3 lives.
type s3Journal struct {
	bucket string
	// prefix is the records' key prefix, ending in "/".
	prefix string
}

func newS3Journal(bucket, prefix string) (s3Journal, error) {
	loc := s3Journal{bucket: bucket, prefix: strings.Trim(prefix, "/")}
	if bucket == "" {
		return loc, fmt.Errorf("journal %s: no bucket", loc)
	}
	if loc.prefix == "" {
		// Records at the top of a bucket would be listed with every
		// other object in it, and two runs could not be told apart.
		return loc, fmt.Errorf("journal %s: a journal in S3 needs a prefix of its own", loc)
	}
	loc.prefix += "/"
	return loc, nil
}

// String is s3://bucket/prefix, what Path returns and ReadJournalS3 reads.
func (l s3Journal) String() string {
	return "s3://" + l.bucket + "/" + strings.TrimSuffix(l.prefix, "/")
}

func (l s3Journal) key(seq int64) string { return fmt.Sprintf("%s%08d.json", l.prefix, seq) }

func (l s3Journal) url(key string) string { return "s3://" + l.bucket + "/" + key }

// seqOf is the seq a record's key names, or false for a key that is not
// one as the journal writes them.
func (l s3Journal) seqOf(key string) (int64, bool) {
	digits, ok := strings.CutSuffix(strings.TrimPrefix(key, l.prefix), ".json")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq <= 0 || l.key(seq) != key {
		return 0, false
	}
	return seq, true
}

// s3Sink writes each record as its own object.
type s3Sink struct {
	// ctx is OpenJournalS3's, without its cancellation: the records
	// that matter most (an interrupted write's failed or unknown) are
	// appended after a Ctrl-C.
	ctx   context.Context
	store ObjectStore
	loc   s3Journal
}

func (s *s3Sink) write(seq int64, line []byte) error {
	key := s.loc.key(seq)
	created, err := s.store.CreateObject(s.ctx, s.loc.bucket, key, line)
	if err != nil {
		return fmt.Errorf("write record %d: %w", seq, err)
	}
	if created {
		return nil
	}
	// The SDK retries a put whose answer was lost; if the first attempt
	// had landed, the retry meets this very record. Nobody else writes
	// these bytes: they hold this run's time to the nanosecond and the
	// chain so far.
	got, _, err := s.store.GetObject(s.ctx, s.loc.bucket, key)
	if err != nil {
		return fmt.Errorf("record %d already exists, and reading it back to tell whether it is this run's own failed: %w", seq, err)
	}
	if !bytes.Equal(got, line) {
		return fmt.Errorf("record %d already exists: another run writes to this journal", seq)
	}
	return nil
}

func (s *s3Sink) close() error { return nil }

// OpenJournalS3 opens the journal under prefix in bucket (s3://bucket/prefix)
// for appending; the prefix, without leading or trailing slashes, must not
// be empty, and should be the run's own (see JournalPrefix). An existing
// journal there is continued after its last record, as OpenJournal
// continues a file; one whose records fail ReadJournalS3's checks is
// refused. No lock is taken: a second Journal on the prefix is stopped at
// its first record whose seq the other has written, and is unusable from
// then on.
//
// ctx bounds the opening; the appends use it with its values but without
// its cancellation or deadline.
func OpenJournalS3(ctx context.Context, store ObjectStore, bucket, prefix string) (*Journal, error) {
	loc, err := newS3Journal(bucket, prefix)
	if err != nil {
		return nil, err
	}
	recs, tail, err := readS3Journal(ctx, store, loc)
	if err != nil {
		return nil, err
	}
	j := &Journal{
		sink: &s3Sink{ctx: context.WithoutCancel(ctx), store: store, loc: loc},
		path: loc.String(),
		now:  time.Now,
	}
	if n := len(recs); n > 0 {
		j.seq = recs[n-1].Seq
	}
	j.prev = tail.digest
	return j, nil
}

// ReadJournalS3 reads every record of the journal under prefix in bucket,
// with the checks ReadJournal makes of a file: the chain must hold, and
// the records must be 00000001.json, 00000002.json, ... without gap, so
// that a record edited, removed or moved is refused, naming its object.
// Every object is written whole, so unlike a file's last line none can be
// damaged by a crash, and a damaged one is refused wherever it is. Any
// other object under the prefix is refused too, and so is a prefix with
// no records (a mistyped one, most likely). Record.Line is the record's
// position, its seq.
func ReadJournalS3(ctx context.Context, store ObjectStore, bucket, prefix string) ([]Record, error) {
	loc, err := newS3Journal(bucket, prefix)
	if err != nil {
		return nil, err
	}
	recs, _, err := readS3Journal(ctx, store, loc)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("read journal %s: no records under it", loc)
	}
	return recs, nil
}

// JournalPrefix is a prefix under base for one run's journal, kind
// ("journal", "rollback") and the UTC time to the millisecond and the
// process id telling runs apart: base/kind-20261204T010203.123Z-4242.
func JournalPrefix(base, kind string, now time.Time, pid int) string {
	name := fmt.Sprintf("%s-%s-%d", kind, now.UTC().Format("20060102T150405.000Z"), pid)
	if base = strings.Trim(base, "/"); base != "" {
		return base + "/" + name
	}
	return name
}

// readS3Journal lists and reads the records under loc, none for a prefix
// with no objects, and checks them.
func readS3Journal(ctx context.Context, store ObjectStore, loc s3Journal) ([]Record, journalTail, error) {
	keys, err := store.ListObjects(ctx, loc.bucket, loc.prefix)
	if err != nil {
		return nil, journalTail{}, fmt.Errorf("read journal %s: %w", loc, err)
	}
	type object struct {
		seq int64
		key string
	}
	objs := make([]object, 0, len(keys))
	for _, k := range keys {
		seq, ok := loc.seqOf(k)
		if !ok {
			return nil, journalTail{}, fmt.Errorf("journal %s: %s is not a journal record (those are %s): refusing to read the journal", loc, loc.url(k), loc.url(loc.prefix+"<8-digit seq>.json"))
		}
		objs = append(objs, object{seq, k})
	}
	// By number, not by key: past 99999999 the keys grow a digit.
	slices.SortFunc(objs, func(a, b object) int { return cmp.Compare(a.seq, b.seq) })
	for i, o := range objs {
		if o.seq != int64(i+1) {
			return nil, journalTail{}, fmt.Errorf("journal %s: record edited, removed or reordered (%s is missing); refusing to roll back from it", loc.url(o.key), loc.url(loc.key(int64(i+1))))
		}
	}

	lines := make([][]byte, len(objs))
	errs := make([]error, len(objs))
	sem := make(chan struct{}, s3ReadConcurrency)
	var wg sync.WaitGroup
	for i, o := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lines[i], _, errs[i] = store.GetObject(ctx, loc.bucket, o.key)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, journalTail{}, fmt.Errorf("read journal %s: %w", loc, err)
		}
	}

	recs, tail, err := parseRecords(lines, func(i int) (string, string) {
		u := loc.url(objs[i].key)
		return u, u
	}, true)
	if err != nil {
		return nil, tail, err
	}
	if len(recs) > 0 && !tail.chained {
		// The tool has chained every record it wrote to S3.
		return nil, tail, fmt.Errorf("journal %s: no record has a prev: not a journal the tool wrote, or every prev was stripped; refusing to read it", loc)
	}
	return recs, tail, nil
}
