package plan

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
)

// A plan file's checksum only says the file is whole: anyone who can edit
// the file can recompute it. A signature says who made it: an HMAC of the
// checksum with a KMS HMAC key, so a plan made in one CI job can be checked
// in another with nothing shared but permission on the key (kms:GenerateMac
// for the job that plans, kms:VerifyMac for the one that applies). The key
// the verifier uses is the one the operator names, never the one the plan
// names: a forger can sign with a key of their own.

// SignatureAlgorithm is the one MAC algorithm plans are signed with (the
// one a KMS HMAC_256 key supports).
const SignatureAlgorithm = "HMAC_SHA_256"

// Signature is a plan file's signature.
type Signature struct {
	Algorithm string `json:"algorithm"`
	// KeyID is the key the plan was signed with, as the signer named it:
	// for the reader's information only.
	KeyID string `json:"key_id"`
	// MAC is the base64 HMAC of SigningMessage.
	MAC string `json:"mac"`
}

// MACer computes and checks HMACs with a KMS key (providers/aws).
type MACer interface {
	GenerateMac(ctx context.Context, keyID string, msg []byte) ([]byte, error)
	VerifyMac(ctx context.Context, keyID string, msg, mac []byte) (bool, error)
}

// signingMessage is what a plan's MAC is of: its checksum (which covers
// everything but the checksum and the signature), under a label, so that
// a MAC made with the same key for something else is not a plan's.
func signingMessage(sum string) []byte {
	return []byte(fmt.Sprintf("s3baseline plan format %d\n%s", FormatVersion, sum))
}

// Sign sets p's checksum and its signature with keyID.
func Sign(ctx context.Context, m MACer, keyID string, p *Plan) error {
	p.Signature = nil
	sum, err := Checksum(p)
	if err != nil {
		return fmt.Errorf("sign plan: %w", err)
	}
	sig, err := SignChecksum(ctx, m, keyID, sum)
	if err != nil {
		return err
	}
	p.Checksum, p.Signature = sum, sig
	return nil
}

// SignChecksum signs a plan by its checksum: what a streamed plan file
// (WriteStream) signs once its last bucket is written.
func SignChecksum(ctx context.Context, m MACer, keyID, sum string) (*Signature, error) {
	mac, err := m.GenerateMac(ctx, keyID, signingMessage(sum))
	if err != nil {
		return nil, fmt.Errorf("sign plan: %w", err)
	}
	return &Signature{Algorithm: SignatureAlgorithm, KeyID: keyID, MAC: base64.StdEncoding.EncodeToString(mac)}, nil
}

// ErrUnsigned is VerifySignature's answer for a plan with no signature when
// one is required.
var ErrUnsigned = errors.New("the plan is not signed")

// VerifySignature checks p's signature with keyID, the key the operator
// names. With require, an unsigned plan is refused (ErrUnsigned); without
// it an unsigned plan passes, and the caller says it was not verified.
// source names the plan file in errors.
func VerifySignature(ctx context.Context, m MACer, keyID string, p *Plan, require bool, source string) error {
	s := p.Signature
	if s == nil {
		if require {
			return fmt.Errorf("%s: %w, and --require-signature is given: sign it with plan --out FILE --sign-key KEY", source, ErrUnsigned)
		}
		return nil
	}
	if s.Algorithm != SignatureAlgorithm {
		return fmt.Errorf("%s: signature algorithm %q is not %s", source, s.Algorithm, SignatureAlgorithm)
	}
	mac, err := base64.StdEncoding.DecodeString(s.MAC)
	if err != nil {
		return fmt.Errorf("%s: signature mac is not base64: %v", source, err)
	}
	// A plan read from a file has had its checksum checked against its
	// content (ReadFile), which it may no longer hold whole (Slim).
	sum := p.Checksum
	if sum == "" {
		if sum, err = Checksum(p); err != nil {
			return fmt.Errorf("%s: verify signature: %w", source, err)
		}
	}
	ok, err := m.VerifyMac(ctx, keyID, signingMessage(sum), mac)
	if err != nil {
		return fmt.Errorf("%s: verify signature: %w", source, err)
	}
	if !ok {
		return fmt.Errorf("%s: signature does not verify with key %s (the plan says it was signed with %s): the plan was changed after it was signed, or signed with another key; refusing it", source, keyID, s.KeyID)
	}
	return nil
}
