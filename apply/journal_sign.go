package apply

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// A signed journal: every record carries an HMAC, made with a KMS HMAC key,
// of its own line without the MAC. The chain already ties each record to
// the ones before it, so the last record's MAC vouches for the whole
// journal: a reader with kms:VerifyMac on the key checks one MAC, and a
// journal rewritten whole (chain recomputed) by someone without
// kms:GenerateMac is refused. What no signature sees is records cut from
// the end: the record left last still verifies.
//
// Signing costs a GenerateMac call per record, made while the journal is
// held (the chain is sequential), so a signed apply is slower.

// ErrJournalUnsigned is VerifyJournal's answer for a journal without MACs
// when one is required.
var ErrJournalUnsigned = errors.New("the journal is not signed")

// SignWith makes every later record carry a MAC by sign (the message is
// small: a digest under a label).
func (j *Journal) SignWith(sign func(msg []byte) ([]byte, error)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sign = sign
}

// recordMACMessage is what a record's MAC is of: the digest of its line
// without MAC, under a label, so that a MAC made with the key for anything
// else is not a record's.
func recordMACMessage(line []byte) []byte {
	return []byte("s3baseline journal record\n" + lineDigest(line))
}

// VerifyJournal checks a journal's signature by its last intact record's
// MAC with verify (the key the operator names). A journal without MACs
// passes unless require; one whose last record has no MAC although others
// have (a record appended by someone without the key) is refused.
func VerifyJournal(recs []Record, verify func(msg, mac []byte) (bool, error), require bool, source string) error {
	last := -1
	signed := false
	for i, r := range recs {
		if r.Status == RecordDamaged {
			continue
		}
		last = i
		signed = signed || r.MAC != ""
	}
	if last < 0 {
		return nil
	}
	r := recs[last]
	switch {
	case r.MAC == "" && signed:
		return fmt.Errorf("journal %s: record %d is not signed, though earlier records are: it was added by someone without the key; refusing the journal", source, r.Seq)
	case r.MAC == "" && require:
		return fmt.Errorf("journal %s: %w, and --require-signature is given", source, ErrJournalUnsigned)
	case r.MAC == "":
		return nil
	}
	mac, err := base64.StdEncoding.DecodeString(r.MAC)
	if err != nil {
		return fmt.Errorf("journal %s: record %d: mac is not base64: %v", source, r.Seq, err)
	}
	unsigned := r
	unsigned.MAC = ""
	line, err := json.Marshal(unsigned)
	if err != nil {
		return fmt.Errorf("journal %s: record %d: %v", source, r.Seq, err)
	}
	ok, err := verify(recordMACMessage(line), mac)
	if err != nil {
		return fmt.Errorf("journal %s: verify signature: %w", source, err)
	}
	if !ok {
		return fmt.Errorf("journal %s: the signature of record %d does not verify with the key given: the journal was changed after it was written, or signed with another key; refusing it", source, r.Seq)
	}
	return nil
}
