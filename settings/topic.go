package settings

// Topic is an SNS topic as GetTopicAttributes reports it: the destination of
// the tool's event notifications.
type Topic struct {
	ARN string `json:"arn"`
	// Exists is false when SNS answered NotFound; the other fields are then
	// empty.
	Exists bool `json:"exists"`
	// Policy is the topic's access policy as SNS returned it (every topic
	// has one; SNS writes a default policy on creation).
	Policy string `json:"policy,omitempty"`
	// KMSKeyID is the topic's KmsMasterKeyId, "" when it is not encrypted.
	// S3 can publish to an encrypted topic only when this is a
	// customer-managed key whose policy lets s3.amazonaws.com use it.
	KMSKeyID string `json:"kms_key_id,omitempty"`
}

// Identity is the calling principal as GetCallerIdentity reports it.
type Identity struct {
	Account string `json:"account"`
	// ARN is the caller's ARN verbatim; for an assumed role it is the
	// session, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	ARN string `json:"arn"`
	// PrincipalARN is the principal a policy names to match this caller:
	// the role ARN for an assumed-role session, otherwise ARN itself.
	PrincipalARN string `json:"principal_arn"`
}
