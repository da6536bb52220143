package aws

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
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

// PutNotifications writes the bucket's whole notification configuration,
// or the empty configuration when v is nil (S3 has no Delete: an empty
// configuration turns every notification off), and reads it back. S3
// replaces the configuration whole, and anything left out stops silently,
// EventBridge included (aws-semantics §6), so every entry given is sent
// with its Id, events and filter rules, and EventBridge when it is on.
//
// S3 validates every destination in the body, foreign ones too, by sending
// it a test message; a destination that does not exist, is in another
// region or whose policy does not let s3.amazonaws.com publish fails the
// whole Put with InvalidArgument "Unable to validate the following
// destination configurations", and overlapping entries with InvalidArgument
// too. Those errors are returned as is. SkipDestinationValidation is never
// set: it exists for emulators, and the tool's tests prove it works with an
// emulator that validates like AWS.
func (p *Provider) PutNotifications(ctx context.Context, ref settings.BucketRef, v *settings.Notifications) error {
	const op = "put bucket notification configuration"
	cfg := &types.NotificationConfiguration{}
	if v != nil {
		for i, e := range v.Entries {
			id, events, filter := notificationFields(e)
			switch e.Kind {
			case settings.DestTopic:
				cfg.TopicConfigurations = append(cfg.TopicConfigurations, types.TopicConfiguration{Id: id, TopicArn: aws.String(e.ARN), Events: events, Filter: filter})
			case settings.DestQueue:
				cfg.QueueConfigurations = append(cfg.QueueConfigurations, types.QueueConfiguration{Id: id, QueueArn: aws.String(e.ARN), Events: events, Filter: filter})
			case settings.DestLambda:
				cfg.LambdaFunctionConfigurations = append(cfg.LambdaFunctionConfigurations, types.LambdaFunctionConfiguration{Id: id, LambdaFunctionArn: aws.String(e.ARN), Events: events, Filter: filter})
			default:
				return fmt.Errorf("%s: entry %d (id %q): unknown destination kind %q (want %s, %s or %s)",
					op, i+1, e.ID, e.Kind, settings.DestTopic, settings.DestQueue, settings.DestLambda)
			}
		}
		if v.EventBridge {
			cfg.EventBridgeConfiguration = &types.EventBridgeConfiguration{}
		}
	}
	client := p.bucketClient(ref)
	err := p.run(ctx, op, func(ctx context.Context) error {
		_, err := client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket:                    aws.String(ref.Name),
			NotificationConfiguration: cfg,
		})
		return err
	})
	if err != nil {
		return err
	}
	return verify(ctx, p, "bucket notification configuration", v, func(ctx context.Context) (*settings.Notifications, error) {
		return findNotifications(ctx, client, ref.Name)
	}, sameNotifications)
}

// notificationFields converts the fields the three destination kinds
// share. An empty Id is left out, and S3 makes one up.
func notificationFields(e settings.NotificationEntry) (*string, []types.Event, *types.NotificationConfigurationFilter) {
	var id *string
	if e.ID != "" {
		id = aws.String(e.ID)
	}
	events := make([]types.Event, 0, len(e.Events))
	for _, ev := range e.Events {
		events = append(events, types.Event(ev))
	}
	var filter *types.NotificationConfigurationFilter
	if len(e.Filter) > 0 {
		key := &types.S3KeyFilter{}
		for _, r := range e.Filter {
			key.FilterRules = append(key.FilterRules, types.FilterRule{Name: types.FilterRuleName(r.Name), Value: aws.String(r.Value)})
		}
		filter = &types.NotificationConfigurationFilter{Key: key}
	}
	return id, events, filter
}

// sameNotifications reports whether got holds exactly the entries of want
// and its EventBridge switch. S3 groups entries by kind and may order
// events and rules its own way, so entries are matched as sets: by Id, or
// for an entry written without one (S3 then makes one up) by content.
// Nothing configured reads back as nil.
func sameNotifications(want, got *settings.Notifications) bool {
	if want != nil && len(want.Entries) == 0 && !want.EventBridge {
		want = nil
	}
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	if want.EventBridge != got.EventBridge || len(want.Entries) != len(got.Entries) {
		return false
	}
	used := make([]bool, len(got.Entries))
next:
	for _, w := range want.Entries {
		nw := normalEntry(w)
		for i, g := range got.Entries {
			if used[i] || (w.ID != "" && w.ID != g.ID) {
				continue
			}
			ng := normalEntry(g)
			ng.ID = nw.ID
			if reflect.DeepEqual(nw, ng) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}

// normalEntry is e with its events and filter rules sorted and rule names
// in lower case, the form in which two entries compare.
func normalEntry(e settings.NotificationEntry) settings.NotificationEntry {
	e.Events = slices.Sorted(slices.Values(e.Events))
	rules := make([]settings.FilterRule, 0, len(e.Filter))
	for _, r := range e.Filter {
		rules = append(rules, settings.FilterRule{Name: strings.ToLower(r.Name), Value: r.Value})
	}
	slices.SortFunc(rules, func(a, b settings.FilterRule) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	})
	e.Filter = rules
	return e
}
