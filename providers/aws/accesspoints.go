package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/s3baseline/s3baseline/settings"
)

// mrapControlRegion is where every Multi-Region Access Point control-plane
// request must go (AWS-doc "Using Multi-Region Access Points with
// supported API operations": "must be routed to the US West (Oregon)
// Region"); the SDK does not reroute them itself.
const mrapControlRegion = "us-west-2"

// s3ControlIn is the S3 Control client of one region: access points are
// regional resources, listed and read where they live.
func (p *Provider) s3ControlIn(region string) *s3control.Client {
	return cached(p, p.s3control, region, func() *s3control.Client {
		return s3control.NewFromConfig(p.cfg, func(o *s3control.Options) {
			o.Region = region
			o.BaseEndpoint = p.baseEndpoint(o.BaseEndpoint)
			o.EndpointResolverV2 = accountLabelStripper{next: s3control.NewDefaultEndpointResolverV2()}
		})
	})
}

// AccessPoints lists the account's access points in each of the regions
// with their Block Public Access. ListAccessPoints does not return it, so
// each access point is read with GetAccessPoint.
func (p *Provider) AccessPoints(ctx context.Context, regions []string) ([]settings.AccessPoint, error) {
	id, err := p.whoAmI(ctx)
	if err != nil {
		return nil, err
	}
	var out []settings.AccessPoint
	for _, region := range regions {
		client := p.s3ControlIn(region)
		var token *string
		for {
			cctx, cancel := p.call(ctx)
			page, err := client.ListAccessPoints(cctx, &s3control.ListAccessPointsInput{AccountId: aws.String(id.account), NextToken: token})
			cancel()
			if err != nil {
				return nil, wrap(fmt.Sprintf("list access points in %s", region), err)
			}
			for _, ap := range page.AccessPointList {
				cctx, cancel := p.call(ctx)
				got, err := client.GetAccessPoint(cctx, &s3control.GetAccessPointInput{AccountId: aws.String(id.account), Name: ap.Name})
				cancel()
				if err != nil {
					return nil, wrap(fmt.Sprintf("get access point %q in %s", aws.ToString(ap.Name), region), err)
				}
				out = append(out, settings.AccessPoint{
					Name: aws.ToString(ap.Name), Bucket: aws.ToString(ap.Bucket), Region: region,
					ARN: aws.ToString(ap.AccessPointArn), NetworkOrigin: string(ap.NetworkOrigin),
					PublicAccessBlock: fromControlBPA(got.PublicAccessBlockConfiguration),
				})
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			token = page.NextToken
		}
	}
	slices.SortFunc(out, func(a, b settings.AccessPoint) int { return strings.Compare(a.ARN, b.ARN) })
	return out, nil
}

// MultiRegionAccessPoints lists the account's Multi-Region Access Points
// with their Block Public Access and buckets. ok is false where the tool
// does not know the control plane: outside the aws partition.
func (p *Provider) MultiRegionAccessPoints(ctx context.Context) (mraps []settings.MultiRegionAccessPoint, ok bool, err error) {
	id, err := p.whoAmI(ctx)
	if err != nil {
		return nil, false, err
	}
	if settings.PartitionOf(id.arn) != "aws" {
		return nil, false, nil
	}
	client := p.s3ControlIn(mrapControlRegion)
	var token *string
	for {
		cctx, cancel := p.call(ctx)
		page, err := client.ListMultiRegionAccessPoints(cctx, &s3control.ListMultiRegionAccessPointsInput{AccountId: aws.String(id.account), NextToken: token})
		cancel()
		if err != nil {
			return nil, true, wrap("list multi-region access points", err)
		}
		for _, m := range page.AccessPoints {
			r := settings.MultiRegionAccessPoint{Name: aws.ToString(m.Name), Alias: aws.ToString(m.Alias),
				PublicAccessBlock: fromControlBPA(m.PublicAccessBlock)}
			for _, reg := range m.Regions {
				r.Buckets = append(r.Buckets, aws.ToString(reg.Bucket))
			}
			mraps = append(mraps, r)
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		token = page.NextToken
	}
	slices.SortFunc(mraps, func(a, b settings.MultiRegionAccessPoint) int { return strings.Compare(a.Name, b.Name) })
	return mraps, true, nil
}

// fromControlBPA is S3 Control's Block Public Access as the tool's; an
// absent configuration has every flag off.
func fromControlBPA(c *types.PublicAccessBlockConfiguration) *settings.PublicAccessBlock {
	if c == nil {
		return &settings.PublicAccessBlock{}
	}
	return &settings.PublicAccessBlock{
		BlockPublicAcls:       aws.ToBool(c.BlockPublicAcls),
		IgnorePublicAcls:      aws.ToBool(c.IgnorePublicAcls),
		BlockPublicPolicy:     aws.ToBool(c.BlockPublicPolicy),
		RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets),
	}
}
