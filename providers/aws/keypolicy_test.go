package aws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

const (
	e2eKeyID  = "5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	e2eKeyARN = "arn:aws:kms:us-east-1:123456789012:key/" + e2eKeyID
	// defaultKeyPolicy is the policy KMS gives a key made without one.
	defaultKeyPolicy = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
	// trailKeyPolicy is the default policy plus the CloudTrail grant,
	// laid out the way a person writes it.
	trailKeyPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-default-1",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "S3BaselineCloudTrailKey", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"}}}
  ]
}`
)

// TestKeyPolicy reads a key's policy, replaces it and reads it again, by
// key id and by key ARN.
func TestKeyPolicy(t *testing.T) {
	for _, ref := range []string{e2eKeyID, e2eKeyARN} {
		t.Run(ref, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			ctx := context.Background()
			got, err := p.KeyPolicy(ctx, "us-east-1", ref)
			if err != nil {
				t.Fatalf("KeyPolicy: %v", err)
			}
			if compact(t, got) != defaultKeyPolicy {
				t.Errorf("KeyPolicy = %s\nwant the default %s", got, defaultKeyPolicy)
			}

			if err := p.PutKeyPolicy(ctx, "us-east-1", ref, trailKeyPolicy); err != nil {
				t.Fatalf("PutKeyPolicy: %v", err)
			}
			got, err = p.KeyPolicy(ctx, "us-east-1", ref)
			if err != nil {
				t.Fatal(err)
			}
			if compact(t, got) != compact(t, trailKeyPolicy) {
				t.Errorf("after PutKeyPolicy: %s\nwant %s", got, compact(t, trailKeyPolicy))
			}
			if n := countCalls(srv.Calls(), op("kms", "PutKeyPolicy")); n != 1 {
				t.Errorf("%d PutKeyPolicy calls, want 1", n)
			}
			for _, c := range srv.Calls() {
				if c.Service == "kms" && c.Region != "us-east-1" {
					t.Errorf("KMS %s signed for %s", c.Operation, c.Region)
				}
			}
		})
	}
}

func TestKeyPolicyErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		call   func(p *awsprovider.Provider) error
		want   string
	}{
		"unknown key": {"a key KMS does not know",
			func(p *awsprovider.Provider) error {
				_, err := p.KeyPolicy(context.Background(), "us-east-1", "00000000-0000-4000-8000-000000000000")
				return err
			},
			"get key policy 00000000-0000-4000-8000-000000000000 in us-east-1: NotFoundException: "},
		"key of another region": {"a key lives in one region",
			func(p *awsprovider.Provider) error {
				_, err := p.KeyPolicy(context.Background(), "eu-west-1", e2eKeyID)
				return err
			},
			"get key policy " + e2eKeyID + " in eu-west-1: NotFoundException: "},
		"malformed": {"KMS refuses a statement without an Action",
			func(p *awsprovider.Provider) error {
				return p.PutKeyPolicy(context.Background(), "us-east-1", e2eKeyID,
					`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Resource":"*"}]}`)
			},
			"put key policy " + e2eKeyID + " in us-east-1: MalformedPolicyDocumentException: "},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			err := tc.call(p)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s\nerror = %v, want one line beginning %q", tc.reason, err, tc.want)
			}
			if w := srv.WriteCalls(); len(w) > 0 && w[0].Status < 300 {
				t.Errorf("%s\na write took effect: %+v", tc.reason, w)
			}
		})
	}
}

// TestCreateKeyWithPolicy makes a key with a policy of its own, and
// CreateKey one with KMS's default.
func TestCreateKeyWithPolicy(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	cases := map[string]struct {
		reason string
		create func() (string, error)
		want   string
	}{
		"with policy": {"the given policy is the key's from the start",
			func() (string, error) {
				info, err := p.CreateKeyWithPolicy(ctx, "us-east-1", "trail-key", "CloudTrail logs", trailKeyPolicy)
				return info.KeyID, err
			}, compact(t, trailKeyPolicy)},
		"default policy": {"CreateKey keeps KMS's default key policy",
			func() (string, error) {
				info, err := p.CreateKey(ctx, "us-east-1", "plain-key", "plain")
				return info.KeyID, err
			}, defaultKeyPolicy},
		"existing alias": {"an existing alias's key keeps its policy",
			func() (string, error) {
				info, err := p.CreateKeyWithPolicy(ctx, "us-east-1", "alias/s3baseline", "again", trailKeyPolicy)
				return info.KeyID, err
			}, defaultKeyPolicy},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			id, err := tc.create()
			if err != nil || id == "" {
				t.Fatalf("%s\ncreate: %q, %v", tc.reason, id, err)
			}
			got, err := p.KeyPolicy(ctx, "us-east-1", id)
			if err != nil {
				t.Fatal(err)
			}
			if compact(t, got) != tc.want {
				t.Errorf("%s\npolicy = %s\nwant     %s", tc.reason, got, tc.want)
			}
		})
	}
}
