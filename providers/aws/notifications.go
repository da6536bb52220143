package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// findNotifications reads the bucket's whole notification configuration.
// S3 replaces it whole on every put (aws-semantics §6), so every entry and
// the EventBridge switch are kept, in S3's order, for a later merge to write
// back. (nil, nil) when nothing at all is configured; S3 has no "not
// configured" error here.
func findNotifications(ctx context.Context, client *s3.Client, bucket string) (*settings.Notifications, error) {
	out, err := client.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	n := &settings.Notifications{EventBridge: out.EventBridgeConfiguration != nil}
	for _, c := range out.TopicConfigurations {
		n.Entries = append(n.Entries, notificationEntry(settings.DestTopic, c.Id, c.TopicArn, c.Events, c.Filter))
	}
	for _, c := range out.QueueConfigurations {
		n.Entries = append(n.Entries, notificationEntry(settings.DestQueue, c.Id, c.QueueArn, c.Events, c.Filter))
	}
	for _, c := range out.LambdaFunctionConfigurations {
		n.Entries = append(n.Entries, notificationEntry(settings.DestLambda, c.Id, c.LambdaFunctionArn, c.Events, c.Filter))
	}
	if len(n.Entries) == 0 && !n.EventBridge {
		return nil, nil
	}
	return n, nil
}

// notificationEntry converts the fields the three destination kinds share.
func notificationEntry(kind string, id, arn *string, events []types.Event, filter *types.NotificationConfigurationFilter) settings.NotificationEntry {
	e := settings.NotificationEntry{
		ID:     aws.ToString(id),
		Kind:   kind,
		ARN:    aws.ToString(arn),
		Events: make([]string, 0, len(events)),
	}
	for _, ev := range events {
		e.Events = append(e.Events, string(ev))
	}
	if filter != nil && filter.Key != nil {
		for _, r := range filter.Key.FilterRules {
			// S3 answers "Prefix"/"Suffix" but takes either case; the
			// lower case of the SDK's FilterRuleName enum makes entries
			// compare equal however they were written.
			name := strings.ToLower(string(r.Name))
			e.Filter = append(e.Filter, settings.FilterRule{Name: name, Value: aws.ToString(r.Value)})
		}
	}
	return e
}
