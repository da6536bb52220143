package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/s3baseline/s3baseline/settings"
)

// Record statuses.
const (
	// RecordStarted is written and synced before a write, with the exact
	// before-state.
	RecordStarted = "started"
	// RecordDone follows a write that succeeded and was read back.
	RecordDone = "done"
	// RecordFailed follows a write that failed; it may have been half made.
	RecordFailed = "failed"
	// RecordUnknown follows a write that was in flight when the run was
	// interrupted and whose result cannot be known: it may have been made,
	// in whole or in part, or not at all. A started record with no done,
	// failed or unknown record after it counts as unknown too.
	RecordUnknown = "unknown"
	// RecordCreated records a resource the tool created (a log bucket, a
	// KMS key, an SNS topic). Rollback lists these and never deletes them.
	RecordCreated = "created"
	// RecordDamaged is not written: ReadJournal reports a damaged last
	// line (a crash mid-write) as a record with this status.
	RecordDamaged = "damaged"
)

// Record kinds: what a record's write was made on.
const (
	KindBucket = "bucket"
	KindTopic  = "topic"
	KindKey    = "key"
)

// Record is one journal line.
//
// For a bucket write, Aspect names the document written and Before/After
// are its settings type as JSON (settings.PublicAccessBlock, ...,
// settings.Policy, settings.Notifications), null when absent. For a topic
// write (Kind topic, Aspect policy) Before and After are the policy text as
// a JSON string and Target is the topic's ARN.
type Record struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Status  string    `json:"status"`
	Account string    `json:"account,omitempty"`
	Kind    string    `json:"kind"`
	Bucket  string    `json:"bucket,omitempty"`
	Region  string    `json:"region,omitempty"`
	Aspect  string    `json:"aspect,omitempty"`
	// Controls are the plan's controls the write carries out.
	Controls []settings.ControlID `json:"controls,omitempty"`
	// For names the bucket on whose behalf a shared resource was written
	// (the log bucket's grant, the topic's grant).
	For    string `json:"for,omitempty"`
	Target string `json:"target,omitempty"`
	// Started is, on a done, failed or unknown record, the seq of its
	// started one.
	Started int64 `json:"started,omitempty"`
	// Undoes is, on a rollback's records, the seq of the started record
	// it restores.
	Undoes int64           `json:"undoes,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Prev chains the journal: "sha256:" and the hex SHA-256 of the exact
	// bytes of the previous record's line, without its newline; "" on the
	// first record of a file. Append sets it; it is always written, so
	// that a chained journal can be told from one written before the
	// chain (which has no prev key on any line).
	Prev string `json:"prev"`
	// MAC is set in a signed journal (see SignWith): the base64 HMAC, made
	// with a KMS key, of the record's line as it is without MAC. It is the
	// last field, after Prev, so that it covers the whole chain before it.
	MAC string `json:"mac,omitempty"`

	// Line is the record's line in the file it was read from.
	Line int `json:"-"`
}

// Journal is an append-only JSON-lines file, or a prefix in S3 with one
// object a record (OpenJournalS3). Every Append is synced to disk, or
// stored, before it returns. It is safe for concurrent use, and OpenJournal
// takes an exclusive lock on the file, so that no two Journals, in one
// process or in two, write to one file at once (in S3 a conditional write
// of each record does that).
//
// The journal is a hash chain: each record's Prev is the digest of the
// line before it, and ReadJournal refuses a journal in which a record was
// edited, removed or moved. The chain does not see records cut from the
// end of the file, nor an edit of the last record, which no later record
// vouches for; nor does it stop someone who rewrites the whole file, or
// strips every prev to make it read as a journal from before the chain.
// A journal signed with a key the tool holds would; that is not done.
type Journal struct {
	mu   sync.Mutex
	sink journalSink
	// path names the journal in messages and is what Path returns: the
	// file, or s3://bucket/prefix.
	path string
	seq  int64
	// prev is the digest of the last record's line, the next record's
	// Prev: "" while the journal has no record.
	prev string
	// err, once set, is an append that failed: the file may end in part
	// of a line, or the record may have been stored or not, so nothing
	// more is appended (and no write is made).
	err error
	now func() time.Time
	// sign, when set, MACs every record (SignWith).
	sign func(msg []byte) ([]byte, error)
}

// journalSink is where a Journal's records go; the Journal keeps the
// numbering and the chain, so that a file and S3 hold the same records.
type journalSink interface {
	// write stores the record numbered seq, line being its exact JSON
	// (no newline), durably before it returns; an error means it may or
	// may not have been stored.
	write(seq int64, line []byte) error
	close() error
}

// fileSink appends records as lines to a locked file, syncing each.
type fileSink struct{ f *os.File }

func (s fileSink) write(_ int64, line []byte) error {
	if _, err := s.f.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

func (s fileSink) close() error { return s.f.Close() }

// errJournalLocked is lockJournal's answer when another open file holds
// the lock.
var errJournalLocked = errors.New("journal locked")

// OpenJournal opens path for appending, creating it (mode 0600) and its
// parent directories, and locks it: a journal another Journal has open,
// in this process or another, is refused. An existing journal is continued
// after its last record, the chain with it; one whose last line is damaged
// is refused, since appending would bury the damage in the middle, and so
// is one from before the chain (appending chained records to it would
// make it neither).
func OpenJournal(path string) (*Journal, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j, err := continueJournal(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return j, nil
}

// continueJournal locks the open file f, then reads what it holds: only
// under the lock is its last record the last.
func continueJournal(f *os.File, path string) (*Journal, error) {
	if err := lockJournal(f); err != nil {
		if errors.Is(err, errJournalLocked) {
			return nil, fmt.Errorf("journal %s is being written by another run", path)
		}
		return nil, fmt.Errorf("journal %s: lock: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	recs, tail, err := parseJournal(path, data)
	if err != nil {
		return nil, err
	}
	j := &Journal{sink: fileSink{f}, path: path, now: time.Now}
	for _, r := range recs {
		if r.Status == RecordDamaged {
			return nil, fmt.Errorf("journal %s: %s; roll it back or move it aside before writing to it again", path, r.Error)
		}
		j.seq = max(j.seq, r.Seq)
	}
	if len(recs) > 0 && !tail.chained {
		return nil, fmt.Errorf("journal %s was written by an older s3baseline, without the hash chain: it can be rolled back, but not written to; use a new journal", path)
	}
	j.prev = tail.digest
	// A run that stopped between a record and its newline left a whole
	// last record with no newline: end its line before the next.
	if len(data) > 0 && data[len(data)-1] != '\n' {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("journal %s: sync: %w", path, err)
		}
	}
	return j, nil
}

// Path is the journal's file, or s3://bucket/prefix for one in S3: what
// ReadJournal or ReadJournalS3 reads back.
func (j *Journal) Path() string { return j.path }

// Close closes the file, which releases its lock (a journal in S3 holds
// none); a closed Journal appends nothing.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.sink == nil {
		return nil
	}
	err := j.sink.close()
	j.sink = nil
	return err
}

// Append numbers r, stamps its time, chains it to the line before, writes
// it as one line and syncs the file, returning r as written. A write must
// not be made unless its started record was appended without error. Once
// an append has failed to write or sync, every later one fails too: the
// file may end in part of a line, after which no record would be read.
func (j *Journal) Append(r Record) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.sink == nil {
		return r, fmt.Errorf("journal %s: closed", j.path)
	}
	if j.err != nil {
		return r, fmt.Errorf("journal %s: not written since an earlier record failed to be (%v)", j.path, j.err)
	}
	r.Seq = j.seq + 1
	r.Time = j.now().UTC()
	r.Prev = j.prev
	r.MAC = ""
	data, err := json.Marshal(r)
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	if j.sign != nil {
		// Nothing is written when the record cannot be signed: no write
		// is made without its started record.
		mac, err := j.sign(recordMACMessage(data))
		if err != nil {
			return r, fmt.Errorf("journal %s: sign record %d: %w", j.path, r.Seq, err)
		}
		r.MAC = base64.StdEncoding.EncodeToString(mac)
		if data, err = json.Marshal(r); err != nil {
			return r, fmt.Errorf("journal %s: %w", j.path, err)
		}
	}
	if err := j.sink.write(r.Seq, data); err != nil {
		j.err = err
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.seq, j.prev = r.Seq, lineDigest(data)
	return r, nil
}

// lineDigest is a record's Prev for the line before it.
func lineDigest(line []byte) string {
	sum := sha256.Sum256(line)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ReadJournal reads every record of a journal. A damaged last line (a crash
// while it was being written: the write it was about to record was never
// made, or its started record is intact before it) is tolerated and
// reported as a last record with Status RecordDamaged and the problem in
// Error; damage anywhere else is an error naming the file and the line.
//
// The hash chain is checked: every record's Prev must be the digest of the
// record line before it ("" on the first), and the seqs must run 1, 2,
// 3, ... without gap or repeat; otherwise a record was edited, removed or
// moved, and the journal is refused, naming the line. A journal with no
// prev key on any line was written before the chain, and is read as it
// was then, unchecked.
func ReadJournal(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	recs, _, err := parseJournal(path, data)
	return recs, err
}

// journalTail is what continuing a journal needs of its records.
type journalTail struct {
	// digest is the last record line's, the next record's Prev.
	digest string
	// chained: some record has a prev key.
	chained bool
}

// parseJournal reads a journal's records from its content data.
func parseJournal(path string, data []byte) ([]Record, journalTail, error) {
	lines := bytes.Split(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // the newline ending the last line
	}
	return parseRecords(lines, func(i int) (string, string) {
		return fmt.Sprintf("%s:%d", path, i+1), fmt.Sprintf("line %d", i+1)
	}, false)
}

// recordPlace names the record at index i of what parseRecords reads, for
// messages: at begins one ("path:3", "s3://b/p/00000003.json"), ref names
// it inside one ("line 3").
type recordPlace func(i int) (at, ref string)

// parseRecords reads records, one a line, and checks the chain. whole says
// that each line was stored whole (an S3 object): then a blank or damaged
// one anywhere is refused, while in a file a damaged last line is what a
// crash mid-write leaves, and blank lines are skipped.
func parseRecords(lines [][]byte, place recordPlace, whole bool) ([]Record, journalTail, error) {
	var tail journalTail
	var out []Record
	var digests []string // of each record's line, for the record after it
	for i, line := range lines {
		at, _ := place(i)
		if len(bytes.TrimSpace(line)) == 0 {
			if whole {
				return nil, tail, fmt.Errorf("%s: damaged journal record: empty", at)
			}
			continue
		}
		var r Record
		var key struct {
			Prev *string `json:"prev"`
		}
		err := json.Unmarshal(line, &r)
		if err == nil {
			err = r.check()
		}
		if err != nil {
			if i == len(lines)-1 && !whole {
				out = append(out, Record{Status: RecordDamaged, Line: i + 1,
					Error: fmt.Sprintf("%s: damaged last line, left by a run that stopped while writing it (%v): ignored", at, err)})
				break
			}
			return nil, tail, fmt.Errorf("%s: damaged journal record: %v", at, err)
		}
		if json.Unmarshal(line, &key) == nil && key.Prev != nil {
			tail.chained = true
		}
		r.Line = i + 1
		out = append(out, r)
		digests = append(digests, lineDigest(line))
	}
	if !tail.chained {
		return out, tail, nil
	}
	prev, prevLine := "", 0
	for i, r := range out {
		if r.Status == RecordDamaged {
			break
		}
		at, _ := place(r.Line - 1)
		refuse := func(why string) error {
			return fmt.Errorf("journal %s: record edited, removed or reordered (%s); refusing to roll back from it", at, why)
		}
		switch {
		case r.Prev != prev && prevLine == 0:
			return nil, tail, refuse("it is the first record but has a prev: the records before it were removed")
		case r.Prev != prev:
			_, ref := place(prevLine - 1)
			return nil, tail, refuse("prev does not match " + ref)
		case r.Seq != int64(i+1):
			return nil, tail, refuse(fmt.Sprintf("seq %d where %d was due", r.Seq, i+1))
		}
		prev, prevLine = digests[i], r.Line
	}
	tail.digest = prev
	return out, tail, nil
}

// check rejects a record that parsed as JSON but is not a journal record.
func (r Record) check() error {
	switch r.Status {
	case RecordStarted, RecordDone, RecordFailed, RecordUnknown, RecordCreated:
	default:
		return fmt.Errorf("unknown status %q", r.Status)
	}
	if r.Seq <= 0 {
		return errors.New("no seq")
	}
	switch r.Kind {
	case KindBucket, KindTopic, KindKey, KindAccount, KindTrail:
	default:
		return fmt.Errorf("unknown kind %q", r.Kind)
	}
	return nil
}
