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
	"path/filepath"
)

// Write prints the plan document as indented JSON (`plan --json`).
func Write(w io.Writer, p *Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// Checksum is "sha256:" and the hex SHA-256 of the compact JSON of the
// plan with its Checksum empty.
func Checksum(p *Plan) (string, error) {
	c := *p
	c.Checksum, c.Signature = "", nil
	data, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// WriteFile saves the plan (`plan --out`) with its checksum set, readable
// by the owner only (a plan names every bucket and its security gaps), and
// atomically: a temporary file in the same directory renamed over path, so
// a crash never leaves half a plan that apply could read.
func WriteFile(path string, p *Plan) error {
	sum, err := Checksum(p)
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	p.Checksum = sum
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		done = true
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	done = true
	return nil
}

// ReadFile reads a plan file and refuses, with one line naming the file,
// anything apply must not act on: damaged JSON, unknown fields, another
// format version, a missing or mismatching checksum.
func ReadFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return decode(path, data)
}

// Decode is ReadFile of a plan already read (from S3, say); name is what
// messages call it.
func Decode(name string, data []byte) (*Plan, error) { return decode(name, data) }

// decode is ReadFile without the file system, for tests and fuzzing.
func decode(name string, data []byte) (*Plan, error) {
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
	if v := *head.FormatVersion; v != FormatVersion {
		return nil, fmt.Errorf("%s: format_version %d is not supported by this s3baseline (reads %d)", name, v, FormatVersion)
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
		return nil, fmt.Errorf("%s: checksum mismatch: the plan was edited after it was written; run plan again", name)
	}
	// Anyone can recompute a checksum: the changes must also be ones the
	// tool could have planned (see Verify).
	if err := Verify(&p); err != nil {
		var fe *ForgeryError
		if errors.As(err, &fe) {
			fe.Source = name
		}
		return nil, err
	}
	return &p, nil
}
