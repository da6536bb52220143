package scan

import "github.com/aws/aws-sdk-go-v2/service/s3"

var _ = s3.DeleteBucketInput{} // in a test file: not a call of the program
