package aws

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The finders, exported to the external tests so they exercise the
// production code paths (terraform-provider-aws does the same).
var (
	FindPublicAccessBlock = findPublicAccessBlock
	FindOwnership         = findOwnership
	FindEncryption        = findEncryption
	FindLogging           = findLogging
	FindPolicy            = findPolicy
	FindNotifications     = findNotifications
	FindTags              = findTags
)

// S3Client exposes the provider's client for region to finder tests.
func (p *Provider) S3Client(region string) *s3.Client { return p.s3Client(region) }

// SetMaxBackoff caps the retry backoff so tests of retried faults stay fast.
func SetMaxBackoff(o *Options, d time.Duration) { o.MaxBackoff = d }

// SetListPageSize sets ListBuckets' page size, so a test pages through a
// few buckets instead of 10,000.
func SetListPageSize(o *Options, n int32) { o.listPageSize = n }
