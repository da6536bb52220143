package plan

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// The guardrails `plan --org-policies` suggests, as the Organizations
// policy content to attach to the root (AWS-doc "S3 policy syntax";
// "Resource control policies (RCPs)" and its example of enforcing TLS).
const (
	SuggestedS3Policy = `{"s3_attributes":{"public_access_block_configuration":{"@@assign":"all"}}}`
	SuggestedTLSRCP   = `{"Version":"2012-10-17","Statement":[{"Sid":"EnforceSecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}`
)

// OrgPolicyFindings judges the organization's root policies: whether an S3
// policy turns every account's Block Public Access on, and whether an RCP
// denies S3 requests without TLS in every account. What is missing is a
// finding with the policy to attach; what is there is named in notes.
func OrgPolicyFindings(g settings.OrgGuardrails) (findings []Finding, notes []string) {
	subject := g.RootARN
	if subject == "" {
		subject = g.RootID
	}
	// Each guardrail: the policies that would be it, whether their type
	// is enabled, and what to say in each case.
	guardrails := []struct {
		control             settings.ControlID
		policies            []settings.OrgPolicy
		enforces            func(settings.OrgPolicy) bool
		enabled             bool
		there, off, missing string
	}{
		{settings.AccountBlockPublicAccess, g.S3Policies, func(p settings.OrgPolicy) bool { return s3PolicyAssignsAll(p.Content) }, g.S3PoliciesEnabled,
			"account Block Public Access is enforced in every account by the root's S3 policy ",
			"S3 policies are not enabled in the organization: enable the S3_POLICY type on the root (EnablePolicyType) and attach " + SuggestedS3Policy +
				" to it: every account's Block Public Access is then on, and no account can turn it off",
			"no S3 policy attached to the root sets public_access_block_configuration to all: attach " + SuggestedS3Policy + " to the root (CreatePolicy --type S3_POLICY, AttachPolicy)"},
		{settings.TLSOnly, g.RCPs, func(p settings.OrgPolicy) bool { return !p.AWSManaged && rcpEnforcesTLS(p.Content) }, g.RCPsEnabled,
			"TLS for S3 is enforced in every account by the root's resource control policy ",
			"resource control policies are not enabled in the organization: enable the RESOURCE_CONTROL_POLICY type on the root and attach " + SuggestedTLSRCP +
				" to it: every bucket of every account then refuses requests without TLS, whatever its own policy says",
			"no resource control policy attached to the root denies S3 requests without TLS: attach " + SuggestedTLSRCP + " to the root"},
	}
	for _, gr := range guardrails {
		var ids []string
		for _, p := range gr.policies {
			if gr.enforces(p) {
				ids = append(ids, p.ID)
			}
		}
		switch {
		case len(ids) > 0:
			notes = append(notes, gr.there+strings.Join(ids, ", "))
		case !gr.enabled:
			findings = append(findings, Finding{Control: gr.control, Subject: subject, Detail: gr.off, NIST: baselines.NIST(gr.control)})
		default:
			findings = append(findings, Finding{Control: gr.control, Subject: subject, Detail: gr.missing, NIST: baselines.NIST(gr.control)})
		}
	}
	return findings, notes
}

// s3PolicyAssignsAll reports whether an S3 policy's content assigns "all"
// to public_access_block_configuration.
func s3PolicyAssignsAll(content string) bool {
	var doc struct {
		S3 struct {
			BPA struct {
				Assign string `json:"@@assign"`
			} `json:"public_access_block_configuration"`
		} `json:"s3_attributes"`
	}
	return json.Unmarshal([]byte(content), &doc) == nil && doc.S3.BPA.Assign == "all"
}

// rcpEnforcesTLS reports whether an RCP has a statement denying every S3
// action to everyone on every resource when aws:SecureTransport is false.
func rcpEnforcesTLS(content string) bool {
	doc, err := settings.ParsePolicy(content)
	if err != nil {
		return false
	}
	for _, s := range doc.Statements {
		if deniesInsecureTransport(s, "arn:aws:s3:::*") && slices.Contains(s.Resource, "*") {
			return true
		}
	}
	return false
}
