package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

var _ apply.ObjectStore = (*awsprovider.Provider)(nil)

const journalBucket = "journals"

// s3Env is an emulator with a journal bucket and the real provider aimed
// at it.
type s3Env struct {
	srv   *emulator.Server
	prov  *awsprovider.Provider
	store apply.ObjectStore
}

func startS3(t *testing.T, httpClient *http.Client) *s3Env {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(`{
  "account_id": "123456789012",
  "caller_arn": "arn:aws:iam::123456789012:role/ci",
  "buckets": [{"name": "journals", "region": "eu-west-1"}]
}`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	isolateEnv(t)
	prov, err := awsprovider.New(context.Background(), awsprovider.Options{
		EndpointURL: srv.URL(), MaxAttempts: 3, CallTimeout: 10 * time.Second, PropagationTimeout: 2 * time.Second,
		HTTPClient: httpClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &s3Env{srv: srv, prov: prov, store: prov}
}

func (e *s3Env) open(t *testing.T, prefix string) *apply.Journal {
	t.Helper()
	j, err := apply.OpenJournalS3(context.Background(), e.store, journalBucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func (e *s3Env) object(t *testing.T, key string) []byte {
	t.Helper()
	b, _, err := e.prov.GetObject(context.Background(), journalBucket, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *s3Env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := e.prov.PutObject(context.Background(), journalBucket, key, body, awsprovider.PutCondition{}); err != nil {
		t.Fatal(err)
	}
}

func (e *s3Env) remove(t *testing.T, key string) {
	t.Helper()
	if err := e.prov.DeleteObject(context.Background(), journalBucket, key, ""); err != nil {
		t.Fatal(err)
	}
}

// fiveRecords is a small apply's journal: two writes, one failed, and a
// creation.
func fiveRecords() []apply.Record {
	return []apply.Record{
		{Status: apply.RecordStarted, Account: account, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1", Aspect: "logging", Before: json.RawMessage(`null`), After: json.RawMessage(`{"target_bucket":"logs"}`)},
		{Status: apply.RecordDone, Account: account, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1", Aspect: "logging", Started: 1},
		{Status: apply.RecordCreated, Account: account, Kind: apply.KindTopic, Target: "arn:aws:sns:eu-west-1:123456789012:t", After: json.RawMessage(`"{}"`)},
		{Status: apply.RecordStarted, Account: account, Kind: apply.KindBucket, Bucket: "c", Region: "eu-west-1", Aspect: "policy", Before: json.RawMessage(`null`), After: json.RawMessage(`null`)},
		{Status: apply.RecordFailed, Account: account, Kind: apply.KindBucket, Bucket: "c", Region: "eu-west-1", Aspect: "policy", Started: 4, Error: "AccessDenied"},
	}
}

// appendAll appends recs and returns them as written, Line set as
// ReadJournalS3 sets it.
func appendAll(t *testing.T, j *apply.Journal, recs []apply.Record) []apply.Record {
	t.Helper()
	var out []apply.Record
	for _, r := range recs {
		w, err := j.Append(r)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		w.Line = int(w.Seq)
		out = append(out, w)
	}
	return out
}

func key(prefix string, seq int) string { return fmt.Sprintf("%s/%08d.json", prefix, seq) }

func TestJournalS3RoundTrip(t *testing.T) {
	e := startS3(t, nil)
	ctx := context.Background()
	j := e.open(t, "/runs/r1/")
	if got := j.Path(); got != "s3://journals/runs/r1" {
		t.Errorf("Path() = %q, want s3://journals/runs/r1", got)
	}
	written := appendAll(t, j, fiveRecords())
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	keys, err := e.prov.ListObjects(ctx, journalBucket, "runs/")
	want := []string{key("runs/r1", 1), key("runs/r1", 2), key("runs/r1", 3), key("runs/r1", 4), key("runs/r1", 5)}
	if err != nil || !slices.Equal(keys, want) {
		t.Fatalf("objects = %v, %v; want %v", keys, err, want)
	}
	// Each object is its record's line, which the next record's prev is
	// the digest of.
	for i, k := range keys {
		body := e.object(t, k)
		if strings.HasSuffix(string(body), "\n") {
			t.Errorf("%s ends in a newline", k)
		}
		if i+1 < len(written) && written[i+1].Prev != digest(string(body)) {
			t.Errorf("record %d: prev %s, want the digest of %s", i+2, written[i+1].Prev, k)
		}
	}

	got, err := apply.ReadJournalS3(ctx, e.store, journalBucket, "runs/r1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(written, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
}

func TestJournalS3Continue(t *testing.T) {
	e := startS3(t, nil)
	j := e.open(t, "runs/r1")
	first := appendAll(t, j, fiveRecords())
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = e.open(t, "runs/r1/")
	r, err := j.Append(apply.Record{Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "d", Region: "eu-west-1", Aspect: "logging", Before: json.RawMessage(`null`), After: json.RawMessage(`null`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 6 || r.Prev != digest(string(e.object(t, key("runs/r1", 5)))) {
		t.Errorf("continued record: seq %d prev %s, want seq 6 chained to record 5", r.Seq, r.Prev)
	}
	got, err := apply.ReadJournalS3(context.Background(), e.store, journalBucket, "runs/r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[4].Seq != first[4].Seq || got[5].Seq != 6 {
		t.Errorf("read %d records after continuing, want 6", len(got))
	}
}

func TestReadJournalS3Refuses(t *testing.T) {
	const p = "runs/r1"
	const refusing = "; refusing to roll back from it"
	url := func(seq int) string { return "s3://journals/" + key(p, seq) }
	cases := map[string]struct {
		reason string
		tamper func(t *testing.T, e *s3Env)
		err    string
	}{
		"EditedMiddle": {
			reason: "an edited record breaks the next record's prev",
			tamper: func(t *testing.T, e *s3Env) {
				b := e.object(t, key(p, 2))
				e.put(t, key(p, 2), []byte(strings.Replace(string(b), `"status":"done"`, `"status":"failed"`, 1)))
			},
			err: "journal " + url(3) + ": record edited, removed or reordered (prev does not match " + url(2) + ")" + refusing,
		},
		"RemovedMiddle": {
			reason: "a missing object is a removed record",
			tamper: func(t *testing.T, e *s3Env) { e.remove(t, key(p, 3)) },
			err:    "journal " + url(4) + ": record edited, removed or reordered (" + url(3) + " is missing)" + refusing,
		},
		"RemovedFirst": {
			reason: "a missing first object is a removed record",
			tamper: func(t *testing.T, e *s3Env) { e.remove(t, key(p, 1)) },
			err:    "journal " + url(2) + ": record edited, removed or reordered (" + url(1) + " is missing)" + refusing,
		},
		"Swapped": {
			reason: "two records swapped between their objects are out of chain",
			tamper: func(t *testing.T, e *s3Env) {
				b2, b3 := e.object(t, key(p, 2)), e.object(t, key(p, 3))
				e.put(t, key(p, 2), b3)
				e.put(t, key(p, 3), b2)
			},
			err: "journal " + url(2) + ": record edited, removed or reordered (prev does not match " + url(1) + ")" + refusing,
		},
		"RenumberedToFillGap": {
			reason: "a record removed and the later ones renumbered is out of chain",
			tamper: func(t *testing.T, e *s3Env) {
				for seq := 3; seq < 5; seq++ {
					e.put(t, key(p, seq), e.object(t, key(p, seq+1)))
				}
				e.remove(t, key(p, 5))
			},
			err: "journal " + url(3) + ": record edited, removed or reordered (prev does not match " + url(2) + ")" + refusing,
		},
		"DamagedLast": {
			reason: "an object is written whole, so a damaged last one is no crash's and is refused",
			tamper: func(t *testing.T, e *s3Env) { e.put(t, key(p, 5), []byte(`{"seq":5,`)) },
			err:    url(5) + ": damaged journal record: unexpected end of JSON input",
		},
		"EmptyObject": {
			reason: "an empty object is not skipped like a blank line",
			tamper: func(t *testing.T, e *s3Env) { e.put(t, key(p, 5), nil) },
			err:    url(5) + ": damaged journal record: empty",
		},
		"ForeignObject": {
			reason: "an object that is not a record is refused, not ignored",
			tamper: func(t *testing.T, e *s3Env) { e.put(t, p+"/notes.txt", []byte("hello")) },
			err:    "journal s3://journals/runs/r1: s3://journals/runs/r1/notes.txt is not a journal record (those are s3://journals/runs/r1/<8-digit seq>.json): refusing to read the journal",
		},
		"PrevsStripped": {
			reason: "a journal in S3 is always chained: one without prevs was rewritten",
			tamper: func(t *testing.T, e *s3Env) {
				for seq := 1; seq <= 5; seq++ {
					e.put(t, key(p, seq), prevKey.ReplaceAll(e.object(t, key(p, seq)), nil))
				}
			},
			err: "journal s3://journals/runs/r1: no record has a prev: not a journal the tool wrote, or every prev was stripped; refusing to read it",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := startS3(t, nil)
			appendAll(t, e.open(t, p), fiveRecords())
			tc.tamper(t, e)
			_, err := apply.ReadJournalS3(context.Background(), e.store, journalBucket, p)
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s\nReadJournalS3: %v\nwant: %s", tc.reason, err, tc.err)
			}
			// Continuing it would bury the damage, so it is refused too.
			if _, err := apply.OpenJournalS3(context.Background(), e.store, journalBucket, p); err == nil || err.Error() != tc.err {
				t.Errorf("%s\nOpenJournalS3: %v\nwant: %s", tc.reason, err, tc.err)
			}
		})
	}
}

func TestReadJournalS3Empty(t *testing.T) {
	e := startS3(t, nil)
	cases := map[string]struct {
		prefix, err string
	}{
		"NoRecords": {"runs/none", "read journal s3://journals/runs/none: no records under it"},
		"NoPrefix":  {"/", "journal s3://journals/: a journal in S3 needs a prefix of its own"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := apply.ReadJournalS3(context.Background(), e.store, journalBucket, tc.prefix); err == nil || err.Error() != tc.err {
				t.Errorf("ReadJournalS3(%q) = %v, want %s", tc.prefix, err, tc.err)
			}
		})
	}
}

// TestJournalS3TwoWriters: two Journals on one prefix cannot both write a
// seq; the second to try stops, and writes nothing more.
func TestJournalS3TwoWriters(t *testing.T) {
	e := startS3(t, nil)
	recs := fiveRecords()
	a := e.open(t, "runs/r1")
	b := e.open(t, "runs/r1")
	appendAll(t, a, recs[:2])
	before := e.object(t, key("runs/r1", 1))

	_, err := b.Append(recs[2])
	const want = "journal s3://journals/runs/r1: record 1 already exists: another run writes to this journal"
	if err == nil || err.Error() != want {
		t.Fatalf("second writer's append: %v, want %s", err, want)
	}
	if got := e.object(t, key("runs/r1", 1)); string(got) != string(before) {
		t.Errorf("record 1 was overwritten:\n%s\nwas\n%s", got, before)
	}
	// Poisoned: it does not go on to write seq 2 or 3 either.
	e.srv.ResetCalls()
	if _, err := b.Append(recs[3]); err == nil || !strings.Contains(err.Error(), "not written since an earlier record failed") {
		t.Errorf("append after the conflict: %v", err)
	}
	for _, c := range e.srv.Calls() {
		if c.Operation == "PutObject" {
			t.Errorf("a poisoned journal still wrote: %+v", c)
		}
	}

	// A writer that opened after the first's records continues the
	// chain, and then the first is the one stopped.
	c := e.open(t, "runs/r1")
	appendAll(t, c, recs[2:3])
	if _, err := a.Append(recs[3]); err == nil || err.Error() != "journal s3://journals/runs/r1: record 3 already exists: another run writes to this journal" {
		t.Errorf("first writer after the third wrote seq 3: %v", err)
	}
	if got, err := apply.ReadJournalS3(context.Background(), e.store, journalBucket, "runs/r1"); err != nil || len(got) != 3 {
		t.Errorf("journal after the conflicts: %d records, %v; want 3 intact", len(got), err)
	}
}

// loseAnswer lets the first conditional PutObject of a key ending in
// suffix reach the emulator and be made, then loses its answer for a 500,
// as a dropped connection would: the SDK retries the put, whose retry
// meets the object the first attempt made.
type loseAnswer struct {
	suffix string
	mu     sync.Mutex
	lost   bool
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodPut || r.Header.Get("If-None-Match") == "" ||
		!strings.HasSuffix(r.URL.Path, l.suffix) || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return resp, nil
	}
	l.lost = true
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
	return &http.Response{
		Status: "500 Internal Server Error", StatusCode: http.StatusInternalServerError,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// TestJournalS3RetriedWrite: a record whose put landed but whose answer
// was lost is this run's own when the SDK's retry meets it, not another
// run's.
func TestJournalS3RetriedWrite(t *testing.T) {
	lose := &loseAnswer{suffix: "/00000002.json"}
	e := startS3(t, &http.Client{Transport: lose})
	j := e.open(t, "runs/r1")
	written := appendAll(t, j, fiveRecords())

	var puts []int
	for _, c := range e.srv.Calls() {
		if c.Operation == "PutObject" {
			puts = append(puts, c.Status)
		}
	}
	if !lose.lost || !slices.Equal(puts, []int{200, 200, 412, 200, 200, 200}) {
		t.Fatalf("PutObject answers %v (answer lost: %v), want record 2 made, its answer lost and the retry refused with 412", puts, lose.lost)
	}
	got, err := apply.ReadJournalS3(context.Background(), e.store, journalBucket, "runs/r1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(written, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
}

// TestApplyS3JournalRollsBack: an apply journaled in S3 is rolled back
// from the journal read back from S3, the rollback journaled there too.
func TestApplyS3JournalRollsBack(t *testing.T) {
	e := start(t, nil)
	ctx := context.Background()
	store := e.prov
	const bucket = "modern-default" // any bucket of the account will do
	before := e.srv.Snapshot()

	j, err := apply.OpenJournalS3(ctx, store, bucket, apply.JournalPrefix("s3baseline", "journal", time.Now(), 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Apply(ctx, e.prov, e.plan(), apply.Options{Config: e.cfg, Journal: j, AllowImpact: true}); err == nil {
		t.Log("apply made every change") // shared-data's held-back notification is an error usually
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimPrefix(j.Path(), "s3://"+bucket+"/")
	recs, err := apply.ReadJournalS3(ctx, store, bucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	steps := apply.PlanRollback(recs)
	if len(steps) == 0 {
		t.Fatalf("the apply journaled %d records and nothing to roll back", len(recs))
	}

	rj, err := apply.OpenJournalS3(ctx, store, bucket, apply.JournalPrefix("s3baseline", "rollback", time.Now(), 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.Rollback(ctx, e.prov, steps, rj, apply.RollbackOptions{}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if err := rj.Close(); err != nil {
		t.Fatal(err)
	}
	sameAsBefore(t, before, e.srv.Snapshot())
	rprefix := strings.TrimPrefix(rj.Path(), "s3://"+bucket+"/")
	undone, err := apply.ReadJournalS3(ctx, store, bucket, rprefix)
	if err != nil || len(undone) == 0 {
		t.Errorf("rollback's own journal: %d records, %v", len(undone), err)
	}
}

func TestJournalPrefix(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 2, 3, 123456789, time.FixedZone("CET", 3600))
	cases := map[string]struct{ base, want string }{
		"Base":      {"journals/", "journals/journal-20261204T000203.123Z-42"},
		"Nested":    {"/a/b", "a/b/journal-20261204T000203.123Z-42"},
		"NoBase":    {"", "journal-20261204T000203.123Z-42"},
		"SlashOnly": {"/", "journal-20261204T000203.123Z-42"},
	}
	for name, tc := range cases {
		if got := apply.JournalPrefix(tc.base, "journal", at, 42); got != tc.want {
			t.Errorf("%s: JournalPrefix(%q) = %q, want %q", name, tc.base, got, tc.want)
		}
	}
}
