package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/shield"
	"github.com/aws/aws-sdk-go-v2/service/shield/types"
	"github.com/s3baseline/s3baseline/settings"
)

// Shield is read only, never written: a Shield Advanced subscription is a
// one-year commitment with a monthly fee, and S3 is not a resource Shield
// protects anyway (aws-semantics §9). There is deliberately no Shield write
// anywhere in this package.

// codeShieldNotFound answers DescribeSubscription without a subscription.
const codeShieldNotFound = "ResourceNotFoundException"

// Shield reads the account's Shield Advanced subscription: Subscribed when
// GetSubscriptionState is ACTIVE, and then DescribeSubscription's EndTime
// and AutoRenew. A subscription DescribeSubscription does not find is not
// subscribed.
func (p *Provider) Shield(ctx context.Context) (settings.ShieldState, error) {
	client := p.shield()
	cctx, cancel := p.call(ctx)
	state, err := client.GetSubscriptionState(cctx, &shield.GetSubscriptionStateInput{})
	cancel()
	if err != nil {
		return settings.ShieldState{}, wrap("get shield subscription state", err)
	}
	if state.SubscriptionState != types.SubscriptionStateActive {
		return settings.ShieldState{}, nil
	}

	cctx, cancel = p.call(ctx)
	defer cancel()
	sub, err := client.DescribeSubscription(cctx, &shield.DescribeSubscriptionInput{})
	if hasCode(err, codeShieldNotFound) {
		return settings.ShieldState{}, nil
	}
	if err != nil {
		return settings.ShieldState{}, wrap("describe shield subscription", err)
	}
	st := settings.ShieldState{Subscribed: true}
	if s := sub.Subscription; s != nil {
		st.EndTime = s.EndTime
		st.AutoRenew = string(s.AutoRenew)
	}
	return st, nil
}
