// Package event reads the one EventBridge event an event-driven run acts
// on ("AWS API Call via CloudTrail"), and says what it concerns: a bucket,
// the account, or nothing the tool handles.
package event

// Call is an AWS API call, as CloudTrail names it, that can weaken what
// the tool enforces, and so starts an event-driven run.
type Call struct {
	// Source is the EventBridge source ("aws.s3", "aws.cloudtrail"),
	// EventSource CloudTrail's eventSource, Name CloudTrail's eventName.
	Source, EventSource, Name string
	// Account is true for an account-level call: the whole account is
	// planned; otherwise the call names a bucket (requestParameters
	// bucketName) and that bucket alone is planned.
	Account bool
}

// HandledCalls are the calls the tool reacts to, by CloudTrail's names
// (AWS-doc "Amazon S3 CloudTrail events" lists S3's bucket-level
// management events by these names, which are the REST API's: the bucket
// Block Public Access calls are PutBucketPublicAccessBlock and
// DeleteBucketPublicAccessBlock, PutBucketNotificationConfiguration is
// logged as PutBucketNotification; the S3 Control account-level Block
// Public Access calls are logged by s3.amazonaws.com as
// PutAccountPublicAccessBlock and DeleteAccountPublicAccessBlock; AWS-doc
// "CloudTrail log file examples" names StopLogging, DeleteTrail and
// PutEventSelectors). The deployment templates' event patterns are tested
// against this list.
var HandledCalls = []Call{
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketPublicAccessBlock"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "DeleteBucketPublicAccessBlock"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketPolicy"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "DeleteBucketPolicy"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketEncryption"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "DeleteBucketEncryption"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketLogging"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketOwnershipControls"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "DeleteBucketOwnershipControls"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketAcl"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketNotification"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutBucketVersioning"},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "PutAccountPublicAccessBlock", Account: true},
	{Source: "aws.s3", EventSource: "s3.amazonaws.com", Name: "DeleteAccountPublicAccessBlock", Account: true},
	{Source: "aws.cloudtrail", EventSource: "cloudtrail.amazonaws.com", Name: "StopLogging", Account: true},
	{Source: "aws.cloudtrail", EventSource: "cloudtrail.amazonaws.com", Name: "DeleteTrail", Account: true},
	{Source: "aws.cloudtrail", EventSource: "cloudtrail.amazonaws.com", Name: "PutEventSelectors", Account: true},
}

// DetailType is the EventBridge detail-type of a CloudTrail-recorded call.
const DetailType = "AWS API Call via CloudTrail"
