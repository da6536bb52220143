package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// A KMS key has exactly one key policy, named "default". PutKeyPolicy
// replaces it whole, like a bucket policy: the caller merges, keeping every
// foreign statement (the CloudTrail key grant is one Sid among them).

// keyPolicyName is the only key policy name KMS accepts.
const keyPolicyName = "default"

// KeyPolicy reads the key policy of keyID (a key id or key ARN; KMS does
// not accept an alias here) in region.
func (p *Provider) KeyPolicy(ctx context.Context, region, keyID string) (string, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	policy, err := findKeyPolicy(cctx, p.kms(region), keyID)
	if err != nil {
		return "", wrap("get key policy "+keyID+" in "+region, err)
	}
	return policy, nil
}

// findKeyPolicy reads a key's policy document.
func findKeyPolicy(ctx context.Context, client *kms.Client, keyID string) (string, error) {
	out, err := client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(keyID), PolicyName: aws.String(keyPolicyName)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Policy), nil
}

// PutKeyPolicy replaces the key policy of keyID in region and reads it
// back, comparing the parsed documents: KMS keeps the text it was sent,
// but need not give back the same bytes. KMS refuses a policy that would
// lock the caller out (MalformedPolicyDocumentException); the safety check
// is never bypassed.
func (p *Provider) PutKeyPolicy(ctx context.Context, region, keyID, policy string) error {
	client := p.kms(region)
	err := p.run(ctx, "put key policy "+keyID+" in "+region, func(ctx context.Context) error {
		_, err := client.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
			KeyId:      aws.String(keyID),
			PolicyName: aws.String(keyPolicyName),
			Policy:     aws.String(policy),
		})
		return err
	})
	if err != nil {
		return err
	}
	return verify(ctx, p, "key policy "+keyID, policy, func(ctx context.Context) (string, error) {
		return findKeyPolicy(ctx, client, keyID)
	}, samePolicy)
}
