package settings

import "strings"

// PartitionOf is the partition of an ARN (aws, aws-us-gov, aws-cn), "aws"
// when s is not an ARN. The tool takes its account's partition from the
// caller identity's ARN (aws-semantics §13, "Partitions").
func PartitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

// BucketARN is a bucket's ARN in a partition ("" is aws).
func BucketARN(partition, bucket string) string {
	return "arn:" + orAWS(partition) + ":s3:::" + bucket
}

// AccountRootARN is an account's root principal in a partition.
func AccountRootARN(partition, account string) string {
	return "arn:" + orAWS(partition) + ":iam::" + account + ":root"
}

func orAWS(partition string) string {
	if partition == "" {
		return "aws"
	}
	return partition
}
