package plan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// The plan document is streamed: written while the buckets are observed
// and read without being held whole, so that a plan of a million buckets
// costs memory by the concurrency, not by the number of buckets. The format
// does not change for it. A streamed document is the compact JSON of the
// plan (json.Marshal, fields in the order of Plan) with a newline after the
// header and after each bucket, so one bucket is one line:
//
//	{"format_version":1,...,"caller":"...","buckets":[
//	{"name":"a",...}
//	,{"name":"b",...}
//	],"account_changes":[...],...,"summary":{...},"checksum":"sha256:..."}
//
// A newline is whitespace between JSON values and never occurs inside the
// compact encoding (a string's newlines are escaped), so the checksum, the
// SHA-256 of the compact JSON of the plan without checksum and signature,
// is that of the bytes written before the checksum, newlines left out: the
// writer computes it as it goes, and a reader of a plan held whole (or an
// old one, indented) still finds it by marshalling the plan again. The
// checksum and signature come last, so a truncated file has none and is
// refused.

// bucketsKey is where the buckets begin in the compact plan; nothing
// before it can contain it (the quotes of a string's own text are escaped).
var bucketsKey = []byte(`"buckets":[`)

// skeleton is the compact JSON of p with no buckets, checksum or
// signature, split where the buckets go: head ends with bucketsKey, rest
// begins with the closing bracket.
func skeleton(p *Plan) (head, rest []byte, err error) {
	c := *p
	c.Buckets, c.Checksum, c.Signature = []BucketPlan{}, "", nil
	data, err := json.Marshal(&c)
	if err != nil {
		return nil, nil, err
	}
	i := bytes.Index(data, bucketsKey)
	if i < 0 {
		return nil, nil, errors.New("plan document without buckets")
	}
	i += len(bucketsKey)
	return data[:i], data[i:], nil
}

// DocumentWriter writes the plan document as a Sink: the header at Head,
// one line per bucket, the rest at Tail. With seal (CreateFile) it ends
// the document with the checksum, and the signature when sign is set.
type DocumentWriter struct {
	w      io.Writer
	h      hash.Hash
	head   []byte
	n      int
	seal   bool
	sign   func(sum string) (*Signature, error)
	sum    string
	failed error
}

// NewDocumentWriter writes the plan document to w without a checksum
// (`plan --json`).
func NewDocumentWriter(w io.Writer) *DocumentWriter {
	return &DocumentWriter{w: w, h: sha256.New()}
}

func (d *DocumentWriter) emit(b []byte, newline bool) error {
	if d.failed != nil {
		return d.failed
	}
	d.h.Write(b)
	if _, err := d.w.Write(b); err != nil {
		d.failed = fmt.Errorf("write plan: %w", err)
		return d.failed
	}
	if newline {
		if _, err := d.w.Write([]byte{'\n'}); err != nil {
			d.failed = fmt.Errorf("write plan: %w", err)
		}
	}
	return d.failed
}

// Head implements Sink.
func (d *DocumentWriter) Head(p *Plan) error {
	head, _, err := skeleton(p)
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	d.head = head
	return d.emit(head, true)
}

// Bucket implements Sink.
func (d *DocumentWriter) Bucket(b *BucketPlan) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("write plan: bucket %q: %w", b.Name, err)
	}
	if d.n > 0 {
		if err := d.emit([]byte{','}, false); err != nil {
			return err
		}
	}
	d.n++
	return d.emit(data, true)
}

// Tail implements Sink.
func (d *DocumentWriter) Tail(p *Plan) error {
	head, rest, err := skeleton(p)
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if !bytes.Equal(head, d.head) {
		// The header is written before the buckets; it cannot change.
		return errors.New("write plan: the plan's header changed after it was written")
	}
	// The checksum is of the whole compact plan, its closing brace
	// included: written after the checksum, which goes before it.
	if err := d.emit(rest[:len(rest)-1], false); err != nil {
		return err
	}
	d.h.Write(rest[len(rest)-1:])
	sum, sig := p.Checksum, p.Signature
	if d.seal {
		sum, sig = "sha256:"+hex.EncodeToString(d.h.Sum(nil)), nil
		if d.sign != nil {
			if sig, err = d.sign(sum); err != nil {
				return err
			}
		}
	}
	var tail []byte
	if sum != "" {
		tail = append(tail, `,"checksum":`+quote(sum)...)
	}
	if sig != nil {
		data, err := json.Marshal(sig)
		if err != nil {
			return fmt.Errorf("write plan: %w", err)
		}
		tail = append(append(tail, `,"signature":`...), data...)
	}
	if err := d.emit(append(tail, '}'), true); err != nil {
		return err
	}
	d.sum = sum
	if d.seal {
		p.Checksum, p.Signature = sum, sig
	}
	return nil
}

func quote(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

// FileSink is a plan file being written (`plan --out`): readable by the
// owner only (a plan names every bucket and its security gaps), and
// atomic: a temporary file in the same directory, sealed at Tail and put in
// place by Commit, so a crash, an error or a plan refused after it was
// made never leaves a plan that apply could read. Abort removes it.
type FileSink struct {
	*DocumentWriter
	path   string
	tmp    *os.File
	buf    *bufio.Writer
	sealed bool
}

// CreateFile starts a plan file at path; sign, when set, signs its
// checksum (see SignChecksum).
func CreateFile(path string, sign func(sum string) (*Signature, error)) (*FileSink, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write plan %s: %w", path, err)
	}
	buf := bufio.NewWriterSize(tmp, 256<<10)
	d := NewDocumentWriter(buf)
	d.seal, d.sign = true, sign
	return &FileSink{DocumentWriter: d, path: path, tmp: tmp, buf: buf}, nil
}

// Tail implements Sink: it seals the document and closes the file.
func (f *FileSink) Tail(p *Plan) error {
	err := f.DocumentWriter.Tail(p)
	if err == nil {
		err = f.buf.Flush()
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("write plan %s: %w", f.path, err)
	}
	f.sealed = true
	return nil
}

// Commit puts the sealed file in place.
func (f *FileSink) Commit() error {
	if !f.sealed {
		f.Abort()
		return fmt.Errorf("write plan %s: the plan was not finished", f.path)
	}
	if err := os.Rename(f.tmp.Name(), f.path); err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("write plan %s: %w", f.path, err)
	}
	return nil
}

// Abort removes a plan file not finished.
func (f *FileSink) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// ReadOptions say what a plan read as a stream (OpenFile) does with its
// buckets.
type ReadOptions struct {
	// Verified, when set, is called once the file's checksum is known to
	// be right, before any bucket is handed out, with the plan's header,
	// settings, account part, checksum and signature (no buckets): where a
	// signature is checked, and a Sink's Head written.
	Verified func(p *Plan) error
	// Bucket, when set, is called with each bucket in order, after the
	// whole file's checksum and that bucket's changes have been checked.
	Bucket func(a *AccountPlan, b *BucketPlan) error
	// Keep says which buckets the plan returned holds whole; the others
	// are Slim. Nil keeps none whole.
	Keep func(b *BucketPlan) bool
}

// read reads the plan that open opens, in two passes (see OpenFile).
func read(name string, open func() (io.ReadCloser, error), o ReadOptions) (*Plan, error) {
	first, sum, err := walk(name, open, nil)
	if errors.Is(err, errNotStreamed) {
		return readWhole(name, open, o)
	}
	if err != nil {
		return nil, err
	}
	if first.Checksum == "" {
		return nil, fmt.Errorf("%s: no checksum: not a plan file written by s3baseline plan --out", name)
	}
	if sum != first.Checksum {
		return nil, errEdited(name)
	}
	if o.Verified != nil {
		if err := o.Verified(first); err != nil {
			return nil, err
		}
	}
	// The settings come after the buckets: the second pass checks each
	// bucket's changes against them.
	v := newVerifier(first)
	slim := newSlimmer()
	p, again, err := walk(name, open, func(a *AccountPlan, b *BucketPlan) (BucketPlan, error) {
		v.bucket(a, b)
		if len(v.probs) == 0 && o.Bucket != nil {
			if err := o.Bucket(a, b); err != nil {
				return BucketPlan{}, err
			}
		}
		if o.Keep != nil && o.Keep(b) {
			return *b, nil
		}
		return slim.slim(b), nil
	})
	if errors.Is(err, errNotStreamed) || (err == nil && again != sum) {
		return nil, fmt.Errorf("%s: the file changed while it was read; read it again", name)
	}
	if err != nil {
		return nil, err
	}
	for i := range p.Accounts {
		a := &p.Accounts[i]
		for j := range a.Buckets {
			v.bucket(a, &a.Buckets[j])
			if len(v.probs) == 0 && o.Bucket != nil {
				if err := o.Bucket(a, &a.Buckets[j]); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := named(v.finish(p), name); err != nil {
		return nil, err
	}
	return p, nil
}

// readWhole reads a document not in the streamed order whole, and gives
// it to o as read would.
func readWhole(name string, open func() (io.ReadCloser, error), o ReadOptions) (*Plan, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", name, err)
	}
	p, err := decodeWhole(name, data)
	if err != nil {
		return nil, err
	}
	if o.Verified != nil {
		h := *p
		h.Buckets = []BucketPlan{}
		if err := o.Verified(&h); err != nil {
			return nil, err
		}
	}
	slim := newSlimmer()
	for _, a := range p.Sections() {
		for i := range a.Buckets {
			b := &a.Buckets[i]
			if o.Bucket != nil {
				if err := o.Bucket(a, b); err != nil {
					return nil, err
				}
			}
			if len(p.Accounts) == 0 && (o.Keep == nil || !o.Keep(b)) {
				*b = slim.slim(b)
			}
		}
	}
	return p, nil
}

// errNotStreamed is walk's answer for a document that does not begin with
// its format_version, as every plan this tool has written does: it is read
// whole (decodeWhole).
var errNotStreamed = errors.New("not in the streamed order")

// walk reads the document once: the top-level fields strictly (no unknown
// field), the one-account buckets one at a time through visit (nil drops
// them), and the checksum of what it read, computed as the writer does.
// An organization plan's sections are read whole.
func walk(name string, open func() (io.ReadCloser, error), visit func(a *AccountPlan, b *BucketPlan) (BucketPlan, error)) (*Plan, string, error) {
	r, err := open()
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	bad := func(err error) (*Plan, string, error) {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, "", fmt.Errorf("%s: not a plan file: truncated: the document ends before its checksum", name)
		}
		return nil, "", fmt.Errorf("%s: not a plan file: %v", name, err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil {
		return bad(err)
	} else if tok != json.Delim('{') {
		return nil, "", errNotStreamed
	}
	p := &Plan{}
	h := sha256.New()
	var head []byte
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := tok.(string)
		if first {
			if key != "format_version" {
				return nil, "", errNotStreamed
			}
			var v int
			if err := dec.Decode(&v); err != nil {
				return bad(err)
			}
			if err := checkVersion(name, v); err != nil {
				return nil, "", err
			}
			p.FormatVersion, first = v, false
			continue
		}
		if key != "buckets" || head != nil {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return bad(err)
			}
			field := append(append([]byte("{"+quote(key)+":"), raw...), '}')
			fd := json.NewDecoder(bytes.NewReader(field))
			fd.DisallowUnknownFields()
			if err := fd.Decode(p); err != nil {
				return bad(err)
			}
			continue
		}
		if head, _, err = skeleton(p); err != nil {
			return bad(err)
		}
		h.Write(head)
		p.Buckets = []BucketPlan{}
		if tok, err := dec.Token(); err != nil {
			return bad(err)
		} else if tok == nil {
			// null: no buckets, as Checksum counts it.
			continue
		} else if tok != json.Delim('[') {
			return bad(fmt.Errorf("buckets is not a list"))
		}
		for n := 0; dec.More(); n++ {
			var b BucketPlan
			if err := dec.Decode(&b); err != nil {
				return bad(err)
			}
			data, err := json.Marshal(&b)
			if err != nil {
				return bad(err)
			}
			if n > 0 {
				h.Write([]byte{','})
			}
			h.Write(data)
			if visit != nil {
				kept, err := visit(&p.AccountPlan, &b)
				if err != nil {
					return nil, "", err
				}
				p.Buckets = append(p.Buckets, kept)
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("%s: not a plan file: data after the plan document", name)
	}
	if first {
		return nil, "", fmt.Errorf("%s: not a plan file: no format_version", name)
	}
	if head == nil {
		// No buckets at all: a document of a plan held whole.
		sum, err := Checksum(p)
		return p, sum, err
	}
	now, rest, err := skeleton(p)
	if err != nil {
		return bad(err)
	}
	if !bytes.Equal(now, head) {
		// A field that belongs before the buckets came after them: not
		// the document that was checksummed.
		return p, "", nil
	}
	h.Write(rest)
	return p, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
