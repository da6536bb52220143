package plan

import (
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// diffLogging wants server access logs in the region's log bucket under the
// configured prefix, partitioned by event time. The log bucket itself is
// never diffed on it (see Checked): log delivery would log its own
// deliveries.
func diffLogging(c *bucketCtx) *Change {
	d := c.Desired
	if d.LogTarget == "" {
		c.errorf("access_logging: settings.logging.target_bucket is not set")
		return nil
	}
	want := settings.Logging{
		TargetBucket:        d.LogTarget,
		TargetPrefix:        d.LogPrefix,
		KeyFormat:           settings.KeyFormatPartitioned,
		PartitionDateSource: settings.EventTime,
	}
	cur := c.State.Logging
	current := rawJSON(cur)
	if cur == nil {
		return &Change{
			Action: Create,
			Before: current,
			After:  rawJSON(&want),
			Reason: "server access logging is off; baseline " + c.baseline.Name + " wants it in s3://" + want.TargetBucket + "/" + want.TargetPrefix + ", partitioned by event time",
		}
	}
	got := cur.Normalized()
	var diffs []string
	for _, f := range []struct{ name, got, want string }{
		{"target_bucket", got.TargetBucket, want.TargetBucket},
		{"target_prefix", got.TargetPrefix, want.TargetPrefix},
		{"key_format", got.KeyFormat, want.KeyFormat},
		{"partition_date_source", got.PartitionDateSource, want.PartitionDateSource},
	} {
		if f.got != f.want {
			diffs = append(diffs, f.name+" is "+quoteOrNone(f.got)+", not "+quoteOrNone(f.want))
		}
	}
	if len(diffs) == 0 {
		return noop(current, "server access logs go to s3://"+want.TargetBucket+"/"+want.TargetPrefix+", partitioned by event time")
	}
	return &Change{
		Action: Update,
		Before: current,
		After:  rawJSON(&want),
		Reason: "server access logging differs: " + strings.Join(diffs, "; "),
	}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "empty"
	}
	return `"` + s + `"`
}
