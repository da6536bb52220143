package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// TestAccountLabelStripper resolves S3 Control endpoints with and without a
// custom endpoint: only the custom one loses the account label.
func TestAccountLabelStripper(t *testing.T) {
	cases := map[string]struct {
		reason   string
		endpoint *string
		want     string
	}{
		"aws": {
			reason: "AWS addresses S3 Control by account label; keep it",
			want:   "https://123456789012.s3-control.eu-west-1.amazonaws.com",
		},
		"custom": {
			reason:   "a local endpoint cannot resolve with the label in front",
			endpoint: aws.String("http://127.0.0.1:4566"),
			want:     "http://127.0.0.1:4566",
		},
		"custom with path": {
			reason:   "the path of a custom endpoint is kept",
			endpoint: aws.String("http://localhost:4566/base"),
			want:     "http://localhost:4566/base",
		},
	}
	r := accountLabelStripper{next: s3control.NewDefaultEndpointResolverV2()}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ep, err := r.ResolveEndpoint(context.Background(), s3control.EndpointParameters{
				Region:            aws.String("eu-west-1"),
				AccountId:         aws.String("123456789012"),
				RequiresAccountId: aws.Bool(true),
				UseFIPS:           aws.Bool(false),
				UseDualStack:      aws.Bool(false),
				Endpoint:          tc.endpoint,
			})
			if err != nil {
				t.Fatalf("%s\nResolveEndpoint: %v", tc.reason, err)
			}
			if got := ep.URI.String(); got != tc.want {
				t.Errorf("%s\nendpoint = %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}
