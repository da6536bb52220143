package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3baseline/s3baseline/settings"
)

// codeNoSuchWebsiteConfiguration answers a bucket without website hosting.
const codeNoSuchWebsiteConfiguration = "NoSuchWebsiteConfiguration"

// findWebsite reads the bucket's static website configuration; nil when it
// has none.
func findWebsite(ctx context.Context, client *s3.Client, bucket string) (*settings.Website, error) {
	out, err := client.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoSuchWebsiteConfiguration) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w := &settings.Website{}
	if out.IndexDocument != nil {
		w.IndexDocument = aws.ToString(out.IndexDocument.Suffix)
	}
	if out.RedirectAllRequestsTo != nil {
		w.RedirectAllRequestsTo = aws.ToString(out.RedirectAllRequestsTo.HostName)
	}
	return w, nil
}
