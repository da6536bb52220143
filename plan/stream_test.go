package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/settings"
)

// TestBuildStreams: a plan streamed through its sinks while it is made is
// the plan made whole and written afterwards, byte for byte, for the
// document and for the text; the plan Build returns then holds only Slim
// buckets, and the document has one bucket per line.
func TestBuildStreams(t *testing.T) {
	f, o := mixedScenario(t)
	whole, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	var wantDoc, wantText bytes.Buffer
	if err := Write(&wantDoc, whole); err != nil {
		t.Fatal(err)
	}
	if err := Render(&wantText, whole, RenderOptions{}); err != nil {
		t.Fatal(err)
	}

	f, o = mixedScenario(t)
	var doc, text bytes.Buffer
	o.Sink = Sinks{NewDocumentWriter(&doc), NewTextRenderer(&text, RenderOptions{})}
	streamed, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantDoc.String(), doc.String()); diff != "" {
		t.Errorf("streamed document: -whole, +streamed:\n%s", diff)
	}
	if diff := cmp.Diff(wantText.String(), text.String()); diff != "" {
		t.Errorf("streamed text: -whole, +streamed:\n%s", diff)
	}
	if streamed.Summary != whole.Summary {
		t.Errorf("summary %+v, want %+v", streamed.Summary, whole.Summary)
	}
	if streamed.Buckets != nil || streamed.BucketCount() != len(whole.Buckets) {
		t.Fatalf("streamed plan holds %d buckets whole and keeps %d, want none whole and %d kept", len(streamed.Buckets), streamed.BucketCount(), len(whole.Buckets))
	}
	i := 0
	for b := range streamed.EachBucket() {
		if diff := cmp.Diff(Slim(&whole.Buckets[i]), *b); diff != "" {
			t.Errorf("bucket %s kept: -Slim, +kept:\n%s", b.Name, diff)
		}
		i++
	}
	if i != len(whole.Buckets) {
		t.Errorf("EachBucket yielded %d buckets, want %d", i, len(whole.Buckets))
	}
	lines := strings.Split(strings.TrimSuffix(doc.String(), "\n"), "\n")
	if want := len(whole.Buckets) + 2; len(lines) != want {
		t.Fatalf("document has %d lines, want %d (header, one per bucket, tail)", len(lines), want)
	}
	for i, b := range whole.Buckets {
		if !strings.HasPrefix(strings.TrimPrefix(lines[i+1], ","), `{"name":`+quote(b.Name)) {
			t.Errorf("line %d is not bucket %s: %.60s", i+2, b.Name, lines[i+1])
		}
	}
}

// TestFileSinkRoundTrip: a plan file written while the plan is made reads
// back as the plan made whole, checksum included; OpenFile hands out every
// bucket in order and keeps whole only those Keep asks for.
func TestFileSinkRoundTrip(t *testing.T) {
	f, o := mixedScenario(t)
	whole, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	f, o = mixedScenario(t)
	sink, err := CreateFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Sink = sink
	streamed, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("plan file in place before Commit: %v", err)
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	sum, err := Checksum(whole)
	if err != nil {
		t.Fatal(err)
	}
	if streamed.Checksum != sum {
		t.Errorf("streamed checksum %s, want that of the whole plan %s", streamed.Checksum, sum)
	}

	var seen []string
	back, err := OpenFile(path, ReadOptions{
		Verified: func(p *Plan) error {
			if len(seen) > 0 || len(p.Buckets) > 0 {
				t.Error("Verified called after buckets were handed out")
			}
			return nil
		},
		Bucket: func(_ *AccountPlan, b *BucketPlan) error {
			seen = append(seen, b.Name)
			return nil
		},
		Keep: func(b *BucketPlan) bool { return b.Name == "legacy-archive" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bucketNames(whole), seen); diff != "" {
		t.Errorf("buckets handed out: -want, +got:\n%s", diff)
	}
	if back.Checksum != sum || back.Summary != whole.Summary {
		t.Errorf("read back checksum %s summary %+v", back.Checksum, back.Summary)
	}
	for i, b := range back.Buckets {
		want := Slim(&whole.Buckets[i])
		if b.Name == "legacy-archive" {
			want = whole.Buckets[i]
		}
		var x, y bytes.Buffer
		if err := Write(&x, &Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{want}}}); err != nil {
			t.Fatal(err)
		}
		if err := Write(&y, &Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{b}}}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(x.String(), y.String()); diff != "" {
			t.Errorf("bucket %s read back: -want, +got:\n%s", b.Name, diff)
		}
	}
}

// TestTruncatedStreamRefused: a plan file cut anywhere (after its header,
// inside a bucket, before its last line) is refused before any bucket is
// handed out.
func TestTruncatedStreamRefused(t *testing.T) {
	path, _ := writtenPlan(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	cases := map[string][]byte{
		"HeaderOnly":     lines[0],
		"MidBucket":      append(bytes.Join(lines[:3], nil), lines[3][:len(lines[3])/2]...),
		"LastLineGone":   bytes.Join(lines[:len(lines)-2], nil),
		"LastByteGone":   good[:len(good)-2],
		"AllBucketsOnly": bytes.Join(lines[:len(lines)-2], nil)[:len(bytes.Join(lines[:len(lines)-2], nil))-1],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), "plan.json")
			if err := os.WriteFile(cut, data, 0o600); err != nil {
				t.Fatal(err)
			}
			handed := 0
			_, err := OpenFile(cut, ReadOptions{
				Verified: func(*Plan) error { handed++; return nil },
				Bucket:   func(*AccountPlan, *BucketPlan) error { handed++; return nil },
			})
			if err == nil || !strings.HasPrefix(err.Error(), cut+": not a plan file") {
				t.Errorf("truncated plan: error %v, want %s: not a plan file ...", err, cut)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if handed != 0 {
				t.Errorf("%d calls handed out parts of a truncated plan", handed)
			}
		})
	}
}

// TestEmitterWindow: a bucket past the window of the first one not yet
// emitted waits, so a slow bucket bounds what piles up behind it.
func TestEmitterWindow(t *testing.T) {
	var got []string
	e := newEmitter(sinkFunc(func(b *BucketPlan) error { got = append(got, b.Name); return nil }), window+1)
	for i := 1; i < window; i++ {
		if err := e.done(i, BucketPlan{Name: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	var waited atomic.Bool
	released := make(chan error)
	go func() { released <- e.wait(context.Background(), window); waited.Store(true) }()
	select {
	case err := <-released:
		t.Fatalf("bucket %d handed out with bucket 0 pending: %v", window, err)
	case <-time.After(50 * time.Millisecond):
	}
	if len(got) != 0 {
		t.Fatalf("%d buckets emitted before the first", len(got))
	}
	if err := e.done(0, BucketPlan{Name: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if len(got) != window || got[0] != "first" {
		t.Errorf("emitted %d buckets starting %q, want %d starting first", len(got), got[0], window)
	}
	if !waited.Load() {
		t.Error("wait did not return")
	}

	// A cancelled run does not leave a worker waiting.
	e = newEmitter(sinkFunc(func(*BucketPlan) error { return nil }), window+1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := e.wait(ctx, window); err != context.Canceled {
		t.Errorf("wait after cancel: %v, want context.Canceled", err)
	}
}

type sinkFunc func(b *BucketPlan) error

func (sinkFunc) Head(*Plan) error             { return nil }
func (f sinkFunc) Bucket(b *BucketPlan) error { return f(b) }
func (sinkFunc) Tail(*Plan) error             { return nil }

// TestSlimmerShares: buckets whose pending changes read alike keep one
// change list between them, equal to what each would keep alone; a list
// that differs in any field, however the fields split, is its own; and
// what is shared cannot be written through by an append.
func TestSlimmerShares(t *testing.T) {
	change := func(reason string, impact ...string) Change {
		return Change{Control: settings.DefaultEncryption, Action: Update, NIST: []string{"SC-28"}, Reason: reason, Impact: impact,
			Before: json.RawMessage(`{"algorithm":"AES256"}`), After: json.RawMessage(`{"algorithm":"aws:kms"}`), Depends: []settings.Aspect{settings.AspectEncryption}}
	}
	noop := Change{Control: settings.AccessLogging, Action: NoOp, Reason: "on"}
	buckets := []BucketPlan{
		{Name: "a", Region: "us-east-1", Baseline: "high", Changes: []Change{change("SSE-S3", "x"), noop}, StateDigest: "sha256:a"},
		{Name: "b", Region: "us-east-1", Baseline: "high", Changes: []Change{noop, change("SSE-S3", "x")}, StateDigest: "sha256:b"},
		// The same text split differently between the reason and the impact.
		{Name: "c", Region: "us-east-1", Baseline: "high", Changes: []Change{change("SSE-S3x")}},
		{Name: "d", Region: "us-east-1", Baseline: "high", Changes: []Change{change("SSE-S3", "", "x")}},
		{Name: "e", Region: "us-east-1", Baseline: "high", Changes: []Change{noop}},
	}
	s := newSlimmer()
	var got []BucketPlan
	for i := range buckets {
		got = append(got, s.slim(&buckets[i]))
		if diff := cmp.Diff(Slim(&buckets[i]), got[i]); diff != "" {
			t.Errorf("bucket %s: -alone, +shared:\n%s", buckets[i].Name, diff)
		}
	}
	if len(got[0].Changes) != 1 || got[0].Changes[0].Before != nil || got[0].Changes[0].Depends != nil {
		t.Fatalf("slim bucket a keeps %+v, want its one pending change without values", got[0].Changes)
	}
	if &got[0].Changes[0] != &got[1].Changes[0] {
		t.Error("buckets a and b have the same pending change but keep two lists")
	}
	for _, i := range []int{2, 3} {
		if &got[i].Changes[0] == &got[0].Changes[0] || &got[i].Changes[0] == &got[5-i].Changes[0] {
			t.Errorf("bucket %s shares a change list with a bucket whose change differs", got[i].Name)
		}
	}
	if got[4].Changes != nil {
		t.Errorf("bucket e has nothing pending but keeps %+v", got[4].Changes)
	}
	_ = append(got[0].Changes, Change{Control: settings.AccessLogging})
	if len(got[1].Changes) != 1 || cap(got[1].Changes) != 1 {
		t.Errorf("an append to a shared list reached another bucket: %+v", got[1].Changes)
	}

	// Kept records: a and b read the same, so they share one shape; the
	// others each have their own, and reading a record back is Slim.
	var kept []keptBucket
	for i := range buckets {
		kept = append(kept, s.keep(&buckets[i]))
	}
	if kept[0].shape != kept[1].shape {
		t.Error("buckets a and b read the same but keep two shapes")
	}
	for i := 2; i < len(kept); i++ {
		for j := range i {
			if kept[i].shape == kept[j].shape {
				t.Errorf("buckets %s and %s differ but share a shape", buckets[i].Name, buckets[j].Name)
			}
		}
	}
	k := &Kept{recs: kept}
	i := 0
	for b := range k.each(0, k.Len()) {
		if diff := cmp.Diff(Slim(&buckets[i]), *b); diff != "" {
			t.Errorf("bucket %s read back: -Slim, +kept:\n%s", buckets[i].Name, diff)
		}
		b.Name, b.Region = "changed", "changed" // the loop's own copy
		i++
	}
	if kept[0].shape.Region != "us-east-1" || kept[0].shape.Name != "" {
		t.Errorf("a loop's change reached the shared shape: %+v", kept[0].shape)
	}
	// Errors and the baseline are part of a shape too.
	withErr := buckets[4]
	withErr.Name, withErr.Errors = "f", []string{"get bucket policy: AccessDenied"}
	low := buckets[4]
	low.Name, low.Baseline = "g", "low"
	if e, l := s.keep(&withErr), s.keep(&low); e.shape == kept[4].shape || l.shape == kept[4].shape {
		t.Error("a bucket with an error, or another baseline, shares the shape of bucket e")
	}
}
