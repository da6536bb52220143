package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// HMACs with a KMS HMAC key (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC):
// the secret never leaves KMS, so whoever can call kms:VerifyMac can check a
// journal and only who can call kms:GenerateMac can sign one (AWS-doc "HMAC
// keys in AWS KMS").

// macAlgorithm is the one algorithm an HMAC_256 key supports.
const macAlgorithm = types.MacAlgorithmSpecHmacSha256

// maxMacMessage is the largest message GenerateMac and VerifyMac take
// (AWS-doc API_GenerateMac, Message: "Maximum length of 4096"); sign a
// digest of anything larger.
const maxMacMessage = 4096

// codeKMSInvalidMac is VerifyMac's answer for a MAC that does not verify.
const codeKMSInvalidMac = "KMSInvalidMacException"

// GenerateMac computes the HMAC-SHA-256 of msg with the HMAC key keyID: a
// key ARN or alias ARN (whose region is used), or a key id or alias name
// (in the provider's region).
func (p *Provider) GenerateMac(ctx context.Context, keyID string, msg []byte) ([]byte, error) {
	region := keyRegion(keyID, p.region)
	op := "generate mac with key " + keyID + " in " + region
	if err := checkMacMessage(msg); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var mac []byte
	err := p.run(ctx, op, func(ctx context.Context) error {
		out, err := p.kms(region).GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(keyID), Message: msg, MacAlgorithm: macAlgorithm})
		if err == nil {
			mac = out.Mac
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(mac) == 0 {
		return nil, fmt.Errorf("%s: GenerateMac answered without a MAC", op)
	}
	return mac, nil
}

// VerifyMac checks that mac is the HMAC-SHA-256 of msg under keyID (named as
// for GenerateMac). A MAC that does not verify is (false, nil): KMS's
// KMSInvalidMacException. Every other failure (no such key, a disabled key,
// a key that is not an HMAC key, no permission) is an error.
func (p *Provider) VerifyMac(ctx context.Context, keyID string, msg, mac []byte) (bool, error) {
	region := keyRegion(keyID, p.region)
	op := "verify mac with key " + keyID + " in " + region
	if err := checkMacMessage(msg); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if len(mac) == 0 {
		return false, nil // KMS refuses an empty MAC; none verifies
	}
	var valid bool
	err := p.run(ctx, op, func(ctx context.Context) error {
		out, err := p.kms(region).VerifyMac(ctx, &kms.VerifyMacInput{KeyId: aws.String(keyID), Message: msg, Mac: mac, MacAlgorithm: macAlgorithm})
		if err == nil {
			valid = out.MacValid
		}
		return err
	})
	if hasCode(err, codeKMSInvalidMac) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return valid, nil
}

func checkMacMessage(msg []byte) error {
	switch {
	case len(msg) == 0:
		return fmt.Errorf("empty message: KMS needs 1 to %d bytes", maxMacMessage)
	case len(msg) > maxMacMessage:
		return fmt.Errorf("message of %d bytes: KMS takes at most %d (sign a digest)", len(msg), maxMacMessage)
	}
	return nil
}

// keyRegion is the region in a KMS key or alias ARN
// (arn:PARTITION:kms:REGION:ACCOUNT:...), else fallback.
func keyRegion(ref, fallback string) string {
	parts := strings.SplitN(ref, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && parts[3] != "" {
		return parts[3]
	}
	return fallback
}
