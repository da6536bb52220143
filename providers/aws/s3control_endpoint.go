package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// accountLabelStripper resolves S3 Control endpoints for custom endpoint
// URLs. The SDK's endpoint ruleset builds {AccountId}.{authority} even for
// a BaseEndpoint such as http://127.0.0.1:4566, which then cannot resolve
// (aws-semantics §11; there is no SDK switch for it). With a custom endpoint
// this strips that leading label again; AWS endpoints are left untouched,
// where the account label is how S3 Control is addressed.
type accountLabelStripper struct {
	next s3control.EndpointResolverV2
}

var _ s3control.EndpointResolverV2 = accountLabelStripper{}

func (r accountLabelStripper) ResolveEndpoint(ctx context.Context, params s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.next.ResolveEndpoint(ctx, params)
	if err != nil || params.Endpoint == nil || params.AccountId == nil || *params.AccountId == "" {
		return ep, err
	}
	prefix := *params.AccountId + "."
	ep.URI.Host = strings.TrimPrefix(ep.URI.Host, prefix)
	return ep, nil
}
