package apply

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Started is, on a done or failed record, the seq of its started one.
	Started int64 `json:"started,omitempty"`
	// Undoes is, on a rollback's records, the seq of the started record
	// it restores.
	Undoes int64           `json:"undoes,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Error  string          `json:"error,omitempty"`

	// Line is the record's line in the file it was read from.
	Line int `json:"-"`
}

// Journal is an append-only JSON-lines file. Every Append is synced to
// disk before it returns. It is safe for concurrent use.
type Journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	seq  int64
	now  func() time.Time
}

// OpenJournal opens path for appending, creating it (mode 0600) and its
// parent directories. An existing journal is continued after its last
// record; one whose last line is damaged is refused, since appending would
// bury the damage in the middle.
func OpenJournal(path string) (*Journal, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	var seq int64
	if recs, err := ReadJournal(path); err == nil {
		for _, r := range recs {
			if r.Status == RecordDamaged {
				return nil, fmt.Errorf("journal %s: %s; roll it back or move it aside before writing to it again", path, r.Error)
			}
			seq = max(seq, r.Seq)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f, path: path, seq: seq, now: time.Now}, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Append numbers r, stamps its time, writes it as one line and syncs the
// file, returning r as written. A write must not be made unless its
// started record was appended without error.
func (j *Journal) Append(r Record) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return r, fmt.Errorf("journal %s: closed", j.path)
	}
	j.seq++
	r.Seq = j.seq
	r.Time = j.now().UTC()
	data, err := json.Marshal(r)
	if err != nil {
		j.seq--
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	data = append(data, '\n')
	if _, err := j.f.Write(data); err != nil {
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return r, fmt.Errorf("journal %s: sync: %w", j.path, err)
	}
	return r, nil
}

// ReadJournal reads every record of a journal. A damaged last line (a crash
// while it was being written: the write it was about to record was never
// made, or its started record is intact before it) is tolerated and
// reported as a last record with Status RecordDamaged and the problem in
// Error; damage anywhere else is an error naming the file and the line.
func ReadJournal(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	for i, line := range lines {
		n := i + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		err := json.Unmarshal(line, &r)
		if err == nil {
			err = r.check()
		}
		if err != nil {
			if i == len(lines)-1 {
				out = append(out, Record{Status: RecordDamaged, Line: n,
					Error: fmt.Sprintf("%s:%d: damaged last line, left by a run that stopped while writing it (%v): ignored", path, n, err)})
				break
			}
			return nil, fmt.Errorf("%s:%d: damaged journal record: %v", path, n, err)
		}
		r.Line = n
		out = append(out, r)
	}
	return out, nil
}

// check rejects a record that parsed as JSON but is not a journal record.
func (r Record) check() error {
	switch r.Status {
	case RecordStarted, RecordDone, RecordFailed, RecordCreated:
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
