package aws

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/s3baseline/s3baseline/settings"
)

// The Organizations answers that mean "no S3 policy applies here"
// (AWS-doc API_DescribeEffectivePolicy, Errors).
const (
	codeOrgsNotInUse        = "AWSOrganizationsNotInUseException"
	codeNoEffectivePolicy   = "EffectivePolicyNotFoundException"
	codePolicyTypeNotEnable = "PolicyTypeNotEnabledException"
)

// OrgS3Policy reads whether an AWS Organizations S3 policy manages the
// caller's account-level Block Public Access (AWS-doc "S3 policy syntax":
// then the account-level PutPublicAccessBlock is refused and
// GetPublicAccessBlock answers the effective setting). Any account of an
// organization may ask for its own effective policy; the ids of the
// policies attached to the account are read too where the caller may list
// them (the management account), and left out where it may not.
func (p *Provider) OrgS3Policy(ctx context.Context) (settings.OrgS3Policy, error) {
	client := p.organizations()
	cctx, cancel := p.call(ctx)
	out, err := client.DescribeEffectivePolicy(cctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeS3Policy})
	cancel()
	if hasCode(err, codeOrgsNotInUse) || hasCode(err, codeNoEffectivePolicy) || hasCode(err, codePolicyTypeNotEnable) {
		return settings.OrgS3Policy{}, nil
	}
	if err != nil {
		return settings.OrgS3Policy{}, wrap("describe effective S3 policy", err)
	}
	var content struct {
		S3 struct {
			BPA string `json:"public_access_block_configuration"`
		} `json:"s3_attributes"`
	}
	if out.EffectivePolicy == nil || json.Unmarshal([]byte(aws.ToString(out.EffectivePolicy.PolicyContent)), &content) != nil {
		return settings.OrgS3Policy{}, fmt.Errorf("describe effective S3 policy: the content is not an S3 policy: %q", aws.ToString(out.EffectivePolicy.PolicyContent))
	}
	if content.S3.BPA == "" {
		return settings.OrgS3Policy{}, nil
	}
	pol := settings.OrgS3Policy{Managed: true, BlockPublicAccess: content.S3.BPA}
	target := out.EffectivePolicy.TargetId
	cctx, cancel = p.call(ctx)
	defer cancel()
	list, err := client.ListPoliciesForTarget(cctx, &organizations.ListPoliciesForTargetInput{TargetId: target, Filter: types.PolicyTypeS3Policy})
	if err == nil {
		for _, s := range list.Policies {
			pol.PolicyIDs = append(pol.PolicyIDs, aws.ToString(s.Id))
		}
	}
	return pol, nil
}

// OrgGuardrails reads, from the management account, the S3 policies and
// resource control policies attached to the organization's root: what
// enforces Block Public Access and TLS in every account at once.
func (p *Provider) OrgGuardrails(ctx context.Context) (settings.OrgGuardrails, error) {
	client := p.organizations()
	cctx, cancel := p.call(ctx)
	roots, err := client.ListRoots(cctx, &organizations.ListRootsInput{})
	cancel()
	if err != nil {
		return settings.OrgGuardrails{}, wrap("list organization roots", err)
	}
	if len(roots.Roots) == 0 {
		return settings.OrgGuardrails{}, fmt.Errorf("list organization roots: the organization has no root")
	}
	root := roots.Roots[0]
	g := settings.OrgGuardrails{RootID: aws.ToString(root.Id), RootARN: aws.ToString(root.Arn)}
	for _, t := range root.PolicyTypes {
		if t.Status != types.PolicyTypeStatusEnabled {
			continue
		}
		switch t.Type {
		case types.PolicyTypeS3Policy:
			g.S3PoliciesEnabled = true
		case types.PolicyTypeResourceControlPolicy:
			g.RCPsEnabled = true
		}
	}
	read := func(kind types.PolicyType) ([]settings.OrgPolicy, error) {
		cctx, cancel := p.call(ctx)
		list, err := client.ListPoliciesForTarget(cctx, &organizations.ListPoliciesForTargetInput{TargetId: root.Id, Filter: kind})
		cancel()
		if err != nil {
			return nil, wrap("list "+string(kind)+" policies of the root", err)
		}
		var out []settings.OrgPolicy
		for _, s := range list.Policies {
			cctx, cancel := p.call(ctx)
			d, err := client.DescribePolicy(cctx, &organizations.DescribePolicyInput{PolicyId: s.Id})
			cancel()
			if err != nil {
				return nil, wrap("describe policy "+aws.ToString(s.Id), err)
			}
			pol := settings.OrgPolicy{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), AWSManaged: s.AwsManaged}
			if d.Policy != nil {
				pol.Content = aws.ToString(d.Policy.Content)
			}
			out = append(out, pol)
		}
		return out, nil
	}
	if g.S3PoliciesEnabled {
		if g.S3Policies, err = read(types.PolicyTypeS3Policy); err != nil {
			return g, err
		}
	}
	if g.RCPsEnabled {
		if g.RCPs, err = read(types.PolicyTypeResourceControlPolicy); err != nil {
			return g, err
		}
	}
	return g, nil
}
