package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/s3baseline/s3baseline/settings"
)

// SNS topics are the destination of the tool's event notifications. A
// topic lives in one region, which its ARN names, and S3 publishes only to
// a topic in the bucket's own region whose policy lets s3.amazonaws.com
// publish (aws-semantics §6).

// codeSNSNotFound answers a topic that does not exist.
const codeSNSNotFound = "NotFound"

// Topic attribute names.
const (
	topicAttrPolicy = "Policy"
	topicAttrKMSKey = "KmsMasterKeyId"
)

// topicRegion is the region named in an SNS topic ARN,
// arn:PARTITION:sns:REGION:ACCOUNT:NAME.
func topicRegion(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3] == "" || parts[5] == "" {
		return "", fmt.Errorf("invalid SNS topic ARN %q (want arn:aws:sns:REGION:ACCOUNT:NAME)", arn)
	}
	return parts[3], nil
}

// Topic reads an SNS topic's attributes through the client of the region
// its ARN names. A topic that does not exist is Topic{ARN: arn, Exists:
// false} with no error.
func (p *Provider) Topic(ctx context.Context, arn string) (settings.Topic, error) {
	op := "get topic attributes " + arn
	region, err := topicRegion(arn)
	if err != nil {
		return settings.Topic{}, fmt.Errorf("%s: %w", op, err)
	}
	cctx, cancel := p.call(ctx)
	defer cancel()
	t, err := findTopic(cctx, p.sns(region), arn)
	return t, wrap(op, err)
}

// findTopic reads a topic; Exists is false when SNS does not know it.
func findTopic(ctx context.Context, client *sns.Client, arn string) (settings.Topic, error) {
	out, err := client.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if hasCode(err, codeSNSNotFound) {
		return settings.Topic{ARN: arn}, nil
	}
	if err != nil {
		return settings.Topic{}, err
	}
	return settings.Topic{
		ARN:      arn,
		Exists:   true,
		Policy:   out.Attributes[topicAttrPolicy],
		KMSKeyID: out.Attributes[topicAttrKMSKey],
	}, nil
}

// CreateTopic creates a standard SNS topic named name in region and returns
// it as read back. SNS's CreateTopic is itself idempotent: for an existing
// topic of that name it returns the existing ARN, and the topic is
// returned as it is, policy untouched.
func (p *Provider) CreateTopic(ctx context.Context, region, name string) (settings.Topic, error) {
	op := "create topic " + name + " in " + region
	client := p.sns(region)
	var arn string
	err := p.run(ctx, op, func(ctx context.Context) error {
		out, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err == nil {
			arn = aws.ToString(out.TopicArn)
		}
		return err
	})
	if err != nil {
		return settings.Topic{}, err
	}
	if arn == "" {
		return settings.Topic{}, fmt.Errorf("%s: CreateTopic answered without a topic ARN", op)
	}
	var t settings.Topic
	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		read, err := findTopic(ctx, client, arn)
		if err != nil || read.Exists {
			t = read
			return "", err
		}
		return "not found", nil
	})
	if err != nil {
		return settings.Topic{}, wrap("verify topic "+arn, err)
	}
	if mismatch != "" {
		return settings.Topic{}, fmt.Errorf("verify topic %s: created, but read %s", arn, mismatch)
	}
	return t, nil
}

// PutTopicPolicy sets a topic's whole access policy (SetTopicAttributes
// Policy replaces it; the caller merges, keeping every foreign statement)
// and reads it back, comparing the parsed documents, since SNS need not
// give back the text it was sent.
func (p *Provider) PutTopicPolicy(ctx context.Context, arn string, policy string) error {
	op := "set topic policy " + arn
	region, err := topicRegion(arn)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	client := p.sns(region)
	err = p.run(ctx, op, func(ctx context.Context) error {
		_, err := client.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
			TopicArn:       aws.String(arn),
			AttributeName:  aws.String(topicAttrPolicy),
			AttributeValue: aws.String(policy),
		})
		return err
	})
	if err != nil {
		return err
	}
	return verify(ctx, p, "topic policy "+arn, policy, func(ctx context.Context) (string, error) {
		t, err := findTopic(ctx, client, arn)
		if err == nil && !t.Exists {
			return "", fmt.Errorf("topic %s not found", arn)
		}
		return t.Policy, err
	}, samePolicy)
}
