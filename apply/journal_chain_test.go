package apply_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
)

// digest is a line's prev, computed here apart from the journal's code.
func digest(line string) string {
	sum := sha256.Sum256([]byte(line))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// toolJournal writes four records through a Journal, as apply does, and
// returns the file's lines without their newlines.
func toolJournal(t *testing.T, path string) []string {
	t.Helper()
	j, err := apply.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []apply.Record{
		{Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1", Aspect: "logging", Before: json.RawMessage(`null`), After: json.RawMessage(`null`)},
		{Status: apply.RecordDone, Kind: apply.KindBucket, Bucket: "b", Region: "eu-west-1", Aspect: "logging", Started: 1},
		{Status: apply.RecordStarted, Kind: apply.KindBucket, Bucket: "c", Region: "eu-west-1", Aspect: "logging", Before: json.RawMessage(`null`), After: json.RawMessage(`null`)},
		{Status: apply.RecordFailed, Kind: apply.KindBucket, Bucket: "c", Region: "eu-west-1", Aspect: "logging", Started: 3, Error: "AccessDenied"},
	} {
		if _, err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// chained makes a journal by hand with the given seqs, each line's prev
// right, so that only the numbering can be wrong.
func chained(seqs ...int64) []string {
	var lines []string
	prev := ""
	for _, s := range seqs {
		line := fmt.Sprintf(`{"seq":%d,"time":"2026-01-01T00:00:00Z","status":"started","kind":"bucket","bucket":"b","region":"r","aspect":"logging","before":null,"after":null,"prev":%q}`, s, prev)
		lines = append(lines, line)
		prev = digest(line)
	}
	return lines
}

var prevKey = regexp.MustCompile(`,"prev":"[^"]*"`)

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func TestReadJournalChain(t *testing.T) {
	const refusing = "; refusing to roll back from it"
	cases := map[string]struct {
		reason string
		tamper func(l []string) string
		// err is the whole error after "journal <path>"; "" when the
		// journal must be read.
		err     string
		records int
		damaged bool
	}{
		"Intact": {
			reason: "a journal as the tool wrote it reads",
			tamper: joinLines, records: 4,
		},
		"EditedMiddle": {
			reason: "an edited record breaks the next record's prev",
			tamper: func(l []string) string {
				l[1] = strings.Replace(l[1], `"status":"done"`, `"status":"failed"`, 1)
				return joinLines(l)
			},
			err: ":3: record edited, removed or reordered (prev does not match line 2)" + refusing,
		},
		"EditedFirst": {
			reason: "an edit of the first record is seen at the second",
			tamper: func(l []string) string {
				l[0] = strings.Replace(l[0], `"bucket":"b"`, `"bucket":"x"`, 1)
				return joinLines(l)
			},
			err: ":2: record edited, removed or reordered (prev does not match line 1)" + refusing,
		},
		"RemovedMiddle": {
			reason: "a removed record leaves the next one's prev pointing at it",
			tamper: func(l []string) string { return joinLines(slices.Delete(l, 1, 2)) },
			err:    ":2: record edited, removed or reordered (prev does not match line 1)" + refusing,
		},
		"RemovedFirst": {
			reason: "with the first record removed, the new first has a prev",
			tamper: func(l []string) string { return joinLines(l[1:]) },
			err:    ":1: record edited, removed or reordered (it is the first record but has a prev: the records before it were removed)" + refusing,
		},
		"Reordered": {
			reason: "records moved are out of chain",
			tamper: func(l []string) string {
				l[1], l[2] = l[2], l[1]
				return joinLines(l)
			},
			err: ":2: record edited, removed or reordered (prev does not match line 1)" + refusing,
		},
		"ReorderedLastTwo": {
			reason: "moving the last record up is seen too",
			tamper: func(l []string) string {
				l[2], l[3] = l[3], l[2]
				return joinLines(l)
			},
			err: ":3: record edited, removed or reordered (prev does not match line 2)" + refusing,
		},
		"OnePrevStripped": {
			reason: "a journal with some prev is checked whole: one record without prev is refused",
			tamper: func(l []string) string {
				l[2] = prevKey.ReplaceAllString(l[2], "")
				return joinLines(l)
			},
			err: ":3: record edited, removed or reordered (prev does not match line 2)" + refusing,
		},
		"CRLF": {
			reason: "prev is of the exact bytes of a line: a line ending rewritten is an edit",
			tamper: func(l []string) string { return strings.Join(l, "\r\n") + "\r\n" },
			err:    ":2: record edited, removed or reordered (prev does not match line 1)" + refusing,
		},
		"EditedLastSeq": {
			reason: "the last record's seq edited: no record vouches for it, but the numbering does",
			tamper: func(l []string) string {
				l[3] = strings.Replace(l[3], `"seq":4`, `"seq":5`, 1)
				return joinLines(l)
			},
			err: ":4: record edited, removed or reordered (seq 5 where 4 was due)" + refusing,
		},
		"SeqGap": {
			reason: "seqs must have no gap, even with every prev right",
			tamper: func([]string) string { return joinLines(chained(1, 2, 4)) },
			err:    ":3: record edited, removed or reordered (seq 4 where 3 was due)" + refusing,
		},
		"SeqRepeat": {
			reason: "seqs must not repeat",
			tamper: func([]string) string { return joinLines(chained(1, 2, 2)) },
			err:    ":3: record edited, removed or reordered (seq 2 where 3 was due)" + refusing,
		},
		"SeqNotFromOne": {
			reason: "seqs start at 1",
			tamper: func([]string) string { return joinLines(chained(2, 3)) },
			err:    ":1: record edited, removed or reordered (seq 2 where 1 was due)" + refusing,
		},
		"DamagedLast": {
			reason: "a last line cut by a crash is still tolerated and reported",
			tamper: func(l []string) string {
				l[3] = l[3][:len(l[3])/2]
				return joinLines(l)
			},
			records: 4, damaged: true,
		},
		"Legacy": {
			reason: "a journal with no prev on any record was written before the chain, and reads",
			tamper: func(l []string) string {
				for i := range l {
					l[i] = prevKey.ReplaceAllString(l[i], "")
				}
				return joinLines(l)
			},
			records: 4,
		},
		"TrailingRecordsRemoved": {
			reason:  "records cut from the end cannot be seen by a chain (documented on Journal)",
			tamper:  func(l []string) string { return joinLines(l[:2]) },
			records: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			lines := toolJournal(t, path)
			if err := os.WriteFile(path, []byte(tc.tamper(lines)), 0o600); err != nil {
				t.Fatal(err)
			}
			recs, err := apply.ReadJournal(path)
			if tc.err != "" {
				if want := "journal " + path + tc.err; err == nil || err.Error() != want {
					t.Fatalf("%s\nerr = %v\nwant %s", tc.reason, err, want)
				}
				if _, err := apply.OpenJournal(path); err == nil || !strings.Contains(err.Error(), "record edited, removed or reordered") {
					t.Errorf("%s\nopening it to append: err %v", tc.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nerr = %v", tc.reason, err)
			}
			if len(recs) != tc.records {
				t.Fatalf("%s\n%d records, want %d: %+v", tc.reason, len(recs), tc.records, recs)
			}
			if got := recs[len(recs)-1].Status == apply.RecordDamaged; got != tc.damaged {
				t.Errorf("%s\nlast record %+v", tc.reason, recs[len(recs)-1])
			}
		})
	}
}

func TestOpenJournalContinuesChain(t *testing.T) {
	cases := map[string]struct {
		reason string
		// setup leaves the file at path as the case needs it.
		setup func(t *testing.T, path string)
		err   string // "" when it must open
		seq   int64  // of the record appended after opening
	}{
		"New": {
			reason: "a new journal starts the chain with an empty prev",
			setup:  func(*testing.T, string) {}, seq: 1,
		},
		"EmptyFile": {
			reason: "an empty file is a new journal",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			seq: 1,
		},
		"Continued": {
			reason: "reopening takes the chain from the file's last line",
			setup:  func(t *testing.T, path string) { toolJournal(t, path) }, seq: 5,
		},
		"NoFinalNewline": {
			reason: "a run that stopped between a whole last record and its newline: the line is ended, the chain goes on",
			setup: func(t *testing.T, path string) {
				lines := toolJournal(t, path)
				if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			seq: 5,
		},
		"Legacy": {
			reason: "a journal from before the chain is not continued: it would be neither",
			setup: func(t *testing.T, path string) {
				lines := toolJournal(t, path)
				for i := range lines {
					lines[i] = prevKey.ReplaceAllString(lines[i], "")
				}
				if err := os.WriteFile(path, []byte(joinLines(lines)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			err: "was written by an older s3baseline, without the hash chain",
		},
		"BrokenChain": {
			reason: "a journal whose chain is broken is not continued",
			setup: func(t *testing.T, path string) {
				lines := toolJournal(t, path)
				if err := os.WriteFile(path, []byte(joinLines(slices.Delete(lines, 1, 2))), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			err: "record edited, removed or reordered",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			tc.setup(t, path)
			j, err := apply.OpenJournal(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s\nerr = %v, want %q", tc.reason, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nerr = %v", tc.reason, err)
			}
			r, err := j.Append(apply.Record{Status: apply.RecordCreated, Kind: apply.KindTopic, Target: "arn:aws:sns:eu-west-1:1:t"})
			if err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			wantPrev := ""
			if len(lines) > 1 {
				wantPrev = digest(lines[len(lines)-2])
			}
			if r.Seq != tc.seq || r.Prev != wantPrev {
				t.Errorf("%s\nappended seq %d prev %q, want seq %d prev %q", tc.reason, r.Seq, r.Prev, tc.seq, wantPrev)
			}
			recs, err := apply.ReadJournal(path)
			if err != nil || int64(len(recs)) != tc.seq {
				t.Errorf("%s\nread back %d records, err %v", tc.reason, len(recs), err)
			}
		})
	}
}

// lockHelperEnv names, in a helper process, the journal to try to open.
const lockHelperEnv = "S3BASELINE_TEST_JOURNAL_LOCK"

// TestJournalLockHelperProcess is not a test: TestJournalLock runs the
// test binary again to open a journal from a second process.
func TestJournalLockHelperProcess(t *testing.T) {
	path := os.Getenv(lockHelperEnv)
	if path == "" {
		t.Skip("helper process for TestJournalLock")
	}
	j, err := apply.OpenJournal(path)
	if err == nil {
		_ = j.Close()
	}
	fmt.Printf("\nopen: %v\n", err)
}

func TestJournalLock(t *testing.T) {
	otherProcess := func(t *testing.T, path string) error {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJournalLockHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockHelperEnv+"="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		_, res, ok := strings.Cut(string(out), "\nopen: ")
		if !ok {
			t.Fatalf("helper process said nothing of the open:\n%s", out)
		}
		if res, _, _ = strings.Cut(res, "\n"); res == "<nil>" {
			return nil
		}
		return fmt.Errorf("%s", res)
	}
	sameProcess := func(t *testing.T, path string) error {
		j, err := apply.OpenJournal(path)
		if err == nil {
			_ = j.Close()
		}
		return err
	}
	cases := map[string]struct {
		reason string
		second func(t *testing.T, path string) error
		// closeFirst closes the first Journal before the second opens.
		closeFirst bool
		busy       bool
	}{
		"SameProcess":            {reason: "a second Journal on an open journal, in one process, is refused", second: sameProcess, busy: true},
		"OtherProcess":           {reason: "so is one in another process", second: otherProcess, busy: true},
		"SameProcessAfterClose":  {reason: "closing the journal releases it", second: sameProcess, closeFirst: true},
		"OtherProcessAfterClose": {reason: "for another process too", second: otherProcess, closeFirst: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			j, err := apply.OpenJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if _, err := j.Append(apply.Record{Status: apply.RecordCreated, Kind: apply.KindTopic, Target: "t"}); err != nil {
				t.Fatal(err)
			}
			if tc.closeFirst {
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
			}
			err = tc.second(t, path)
			if tc.busy {
				if want := "journal " + path + " is being written by another run"; err == nil || err.Error() != want {
					t.Fatalf("%s\nerr = %v\nwant %s", tc.reason, err, want)
				}
				// The refused opener wrote nothing; the first goes on.
				if _, err := j.Append(apply.Record{Status: apply.RecordCreated, Kind: apply.KindTopic, Target: "t"}); err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatalf("%s\nerr = %v", tc.reason, err)
			}
			recs, err := apply.ReadJournal(path)
			if err != nil {
				t.Fatalf("%s\n%v", tc.reason, err)
			}
			for i, r := range recs {
				if r.Seq != int64(i+1) {
					t.Errorf("%s\nrecord %d has seq %d", tc.reason, i+1, r.Seq)
				}
			}
		})
	}
}

// TestJournalConcurrentWriters: Journals racing to open one file, and the
// writers sharing the one that did, leave one whole chain.
func TestJournalConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	const openers, writers, each = 8, 8, 25
	var (
		wg, opened sync.WaitGroup
		mu         sync.Mutex
		got        []*apply.Journal
		refused    int
	)
	opened.Add(openers)
	for range openers {
		wg.Go(func() {
			j, err := apply.OpenJournal(path)
			mu.Lock()
			switch {
			case err == nil:
				got = append(got, j)
			case strings.Contains(err.Error(), "is being written by another run"):
				refused++
			default:
				t.Errorf("open: %v", err)
			}
			mu.Unlock()
			opened.Done()
			opened.Wait() // hold the journal open until every opener has tried
		})
	}
	wg.Wait()
	if len(got) != 1 || refused != openers-1 {
		t.Fatalf("%d openers got the journal, %d refused; want 1 and %d", len(got), refused, openers-1)
	}
	j := got[0]
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := j.Append(apply.Record{Status: apply.RecordCreated, Kind: apply.KindTopic, Target: "t"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := apply.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != writers*each {
		t.Errorf("%d records, want %d", len(recs), writers*each)
	}
}
