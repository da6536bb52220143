package aws_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

const macScenario = `{
  "account_id": "123456789012",
  "caller_arn": "arn:aws:iam::123456789012:role/ci",
  "kms_keys": [
    {"region": "us-east-1", "id": "aaaaaaaa-1111-4111-8111-111111111111", "aliases": ["alias/journal"], "key_spec": "HMAC_256"},
    {"region": "eu-west-1", "id": "bbbbbbbb-2222-4222-8222-222222222222", "aliases": ["alias/journal"], "key_spec": "HMAC_256"},
    {"region": "us-east-1", "id": "cccccccc-3333-4333-8333-333333333333", "aliases": ["alias/data"]},
    {"region": "us-east-1", "id": "dddddddd-4444-4444-8444-444444444444", "aliases": ["alias/off"], "key_spec": "HMAC_256", "enabled": false}
  ],
  "buckets": []
}`

// TestMacRoundTrip signs and verifies with each way of naming the key: an
// ARN's region is used, an id or alias is looked up in the provider's
// region.
func TestMacRoundTrip(t *testing.T) {
	srv := start(t, parse(t, macScenario), emulator.Options{})
	p := newProvider(t, srv) // region us-east-1
	ctx := context.Background()
	msg := []byte("sha256 of the journal")
	cases := map[string]struct {
		keyID, region string
	}{
		"alias":                 {"alias/journal", "us-east-1"},
		"key id":                {"aaaaaaaa-1111-4111-8111-111111111111", "us-east-1"},
		"key ARN, other region": {"arn:aws:kms:eu-west-1:123456789012:key/bbbbbbbb-2222-4222-8222-222222222222", "eu-west-1"},
		"alias ARN":             {"arn:aws:kms:eu-west-1:123456789012:alias/journal", "eu-west-1"},
	}
	macs := map[string][]byte{}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv.ResetCalls()
			mac, err := p.GenerateMac(ctx, tc.keyID, msg)
			if err != nil || len(mac) != 32 {
				t.Fatalf("GenerateMac = %x, %v", mac, err)
			}
			macs[name] = mac
			ok, err := p.VerifyMac(ctx, tc.keyID, msg, mac)
			if err != nil || !ok {
				t.Errorf("VerifyMac of its own MAC = %v, %v", ok, err)
			}
			tampered := bytes.Clone(mac)
			tampered[31] ^= 0x80
			for what, c := range map[string]struct{ msg, mac []byte }{
				"a changed MAC":     {msg, tampered},
				"a changed message": {[]byte("sha256 of another journal"), mac},
				"no MAC":            {msg, nil},
			} {
				if ok, err := p.VerifyMac(ctx, tc.keyID, c.msg, c.mac); ok || err != nil {
					t.Errorf("VerifyMac of %s = %v, %v; want false, nil", what, ok, err)
				}
			}
			for _, c := range srv.Calls() {
				if c.Service != "kms" || c.Region != tc.region {
					t.Errorf("%s %s signed for %s, want kms in %s", c.Service, c.Operation, c.Region, tc.region)
				}
			}
		})
	}
	if !bytes.Equal(macs["alias"], macs["key id"]) || bytes.Equal(macs["alias"], macs["key ARN, other region"]) {
		t.Errorf("the same key must give the same MAC and another key another: %x", macs)
	}
}

// TestMacErrors: failures other than an invalid MAC are errors saying what
// was done.
func TestMacErrors(t *testing.T) {
	srv := start(t, parse(t, macScenario), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	cases := map[string]struct {
		keyID    string
		msg      []byte
		wantCode string
		wantText string
	}{
		"encryption key":                  {"alias/data", []byte("m"), "InvalidKeyUsageException", "generate mac with key alias/data in us-east-1: InvalidKeyUsageException"},
		"disabled key":                    {"alias/off", []byte("m"), "DisabledException", "generate mac with key alias/off in us-east-1: DisabledException"},
		"unknown key":                     {"alias/nope", []byte("m"), "NotFoundException", "generate mac with key alias/nope in us-east-1: NotFoundException"},
		"ARN of a region without the key": {"arn:aws:kms:ap-southeast-2:123456789012:alias/journal", []byte("m"), "NotFoundException", "in ap-southeast-2: NotFoundException"},
		"message too long":                {"alias/journal", bytes.Repeat([]byte("x"), 4097), "", "4097 bytes"},
		"empty message":                   {"alias/journal", nil, "", "empty message"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv.ResetCalls()
			_, err := p.GenerateMac(ctx, tc.keyID, tc.msg)
			if err == nil || !strings.Contains(err.Error(), tc.wantText) || awsprovider.ErrorCode(err) != tc.wantCode {
				t.Errorf("GenerateMac = %v (code %q), want %q containing %q", err, awsprovider.ErrorCode(err), tc.wantCode, tc.wantText)
			}
			ok, err := p.VerifyMac(ctx, tc.keyID, tc.msg, []byte("0123456789abcdef0123456789abcdef"))
			if ok || err == nil || awsprovider.ErrorCode(err) != tc.wantCode || !strings.HasPrefix(err.Error(), "verify mac with key "+tc.keyID) {
				t.Errorf("VerifyMac = %v, %v (code %q), want an error with code %q", ok, err, awsprovider.ErrorCode(err), tc.wantCode)
			}
			if tc.wantCode == "" && len(srv.Calls()) != 0 {
				t.Errorf("%d calls for a message KMS would refuse", len(srv.Calls()))
			}
		})
	}
	// Access denied is an error too, never "invalid".
	srv.InjectFault(emulator.Fault{Service: "kms", Operation: "VerifyMac", Status: 400, Code: "AccessDeniedException", Message: "not authorized", Times: 1})
	if ok, err := p.VerifyMac(ctx, "alias/journal", []byte("m"), []byte("x")); ok || awsprovider.ErrorCode(err) != "AccessDeniedException" {
		t.Errorf("VerifyMac refused = %v, %v", ok, err)
	}
}
