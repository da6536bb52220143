package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// findACL reads the bucket's access control list. Every bucket has one
// (at least the owner's FULL_CONTROL), so there is no "not configured"
// answer. The tool never writes ACLs: it reads them to tell what Block
// Public Access, BucketOwnerEnforced or KMS encryption would cut off.
func findACL(ctx context.Context, client *s3.Client, bucket string) (*settings.ACL, error) {
	out, err := client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	acl := &settings.ACL{Grants: []settings.Grant{}}
	if out.Owner != nil {
		acl.Owner = aws.ToString(out.Owner.ID)
	}
	for _, g := range out.Grants {
		if g.Grantee == nil {
			continue
		}
		gr := settings.Grant{
			Type:       string(g.Grantee.Type),
			ID:         aws.ToString(g.Grantee.ID),
			URI:        aws.ToString(g.Grantee.URI),
			Email:      aws.ToString(g.Grantee.EmailAddress),
			Permission: string(g.Permission),
		}
		if gr.Type == "" {
			// S3 sends the type as an xsi:type attribute, which SDKs have
			// dropped before (aws/aws-sdk-go-v2#1013): the grantee's one
			// identifier says what it is.
			switch {
			case gr.URI != "":
				gr.Type = "Group"
			case gr.Email != "":
				gr.Type = "AmazonCustomerByEmail"
			default:
				gr.Type = "CanonicalUser"
			}
		}
		acl.Grants = append(acl.Grants, gr)
	}
	return acl, nil
}

// findPolicyStatus reads S3's own verdict on whether the bucket policy is
// public (GetBucketPolicyStatus); (nil, nil) when there is no policy, which
// S3 answers with NoSuchBucketPolicy.
func findPolicyStatus(ctx context.Context, client *s3.Client, bucket string) (*settings.PolicyStatus, error) {
	out, err := client.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoSuchBucketPolicy) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.PolicyStatus == nil {
		return &settings.PolicyStatus{}, nil
	}
	return &settings.PolicyStatus{IsPublic: aws.ToBool(out.PolicyStatus.IsPublic)}, nil
}
