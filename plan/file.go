package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Write prints the plan document (`plan --json`, `show --json`) in the
// streamed layout of WriteStream, without a checksum.
func Write(w io.Writer, p *Plan) error {
	return writeWhole(NewDocumentWriter(w), p)
}

// writeWhole streams a plan held whole.
func writeWhole(d Sink, p *Plan) error {
	if err := d.Head(p); err != nil {
		return err
	}
	for i := range p.Buckets {
		if err := d.Bucket(&p.Buckets[i]); err != nil {
			return err
		}
	}
	return d.Tail(p)
}

// Checksum is "sha256:" and the hex SHA-256 of the compact JSON of the
// plan with its Checksum empty.
func Checksum(p *Plan) (string, error) {
	c := *p
	c.Checksum, c.Signature = "", nil
	if c.Buckets == nil {
		// Written as an empty list (see skeleton).
		c.Buckets = []BucketPlan{}
	}
	data, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// WriteFile saves a plan held whole (`plan --out` of an organization)
// with its checksum set; see CreateFile.
func WriteFile(path string, p *Plan) error {
	f, err := CreateFile(path, nil)
	if err != nil {
		return err
	}
	if err := writeWhole(f, p); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// ReadFile reads a plan file and refuses, with one line naming the file,
// anything apply must not act on: damaged or truncated JSON, unknown
// fields, another format version, a missing or mismatching checksum, a
// change the tool could not have planned. The plan holds every bucket
// whole; see OpenFile for one that does not.
func ReadFile(path string) (*Plan, error) {
	return OpenFile(path, ReadOptions{Keep: func(*BucketPlan) bool { return true }})
}

// OpenFile reads a plan file as ReadFile does, in two passes over the file
// and without holding it whole: the first checks the checksum (and reads
// the settings, which come after the buckets), the second checks each
// bucket's changes, hands it to o.Bucket and keeps it whole where o.Keep
// says so, Slim otherwise. Nothing is handed out before the whole file is
// known to be the one that was written.
func OpenFile(path string, o ReadOptions) (*Plan, error) {
	open := func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read plan: %w", err)
		}
		return f, nil
	}
	return read(path, open, o)
}

// Decode is ReadFile of a plan already read (from S3, say); name is what
// messages call it.
func Decode(name string, data []byte) (*Plan, error) { return decode(name, data) }

// decode is ReadFile without the file system, for tests and fuzzing.
func decode(name string, data []byte) (*Plan, error) {
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return read(name, open, ReadOptions{Keep: func(*BucketPlan) bool { return true }})
}

// decodeWhole reads a plan document not in the order WriteStream writes
// it (written by hand, or by a tool that sorts keys): the whole document
// at once, as the plan file format has always allowed.
func decodeWhole(name string, data []byte) (*Plan, error) {
	// The version first and leniently, so that a newer format is reported
	// as such rather than as unknown fields.
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %v", name, err)
	}
	if head.FormatVersion == nil {
		return nil, fmt.Errorf("%s: not a plan file: no format_version", name)
	}
	if err := checkVersion(name, *head.FormatVersion); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %v", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: not a plan file: data after the plan document", name)
	}
	if p.Checksum == "" {
		return nil, fmt.Errorf("%s: no checksum: not a plan file written by s3baseline plan --out", name)
	}
	sum, err := Checksum(&p)
	if err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %v", name, err)
	}
	if sum != p.Checksum {
		return nil, errEdited(name)
	}
	if err := named(Verify(&p), name); err != nil {
		return nil, err
	}
	return &p, nil
}

func checkVersion(name string, v int) error {
	if v != FormatVersion {
		return fmt.Errorf("%s: format_version %d is not supported by this s3baseline (reads %d)", name, v, FormatVersion)
	}
	return nil
}

func errEdited(name string) error {
	return fmt.Errorf("%s: checksum mismatch: the plan was edited after it was written; run plan again", name)
}

// named sets a ForgeryError's source.
func named(err error, name string) error {
	var fe *ForgeryError
	if errors.As(err, &fe) {
		fe.Source = name
	}
	return err
}
