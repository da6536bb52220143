// Package apply carries out a reviewed plan and undoes it. It re-observes
// each bucket before touching it and skips it as stale when its state
// changed since the plan was made; it journals every write with its exact
// before-state, synced to disk before the write is made, so that a crash
// or Ctrl-C leaves a journal from which Rollback restores everything; and
// it only ever adds, replaces or removes the policy statements and the
// notification entry the tool owns, re-reading each shared document under
// a lock right before merging into it.
package apply

import (
	"context"
	"errors"

	"github.com/s3baseline/s3baseline/settings"
)

// Provider is what apply and rollback need from AWS. providers/aws.Provider
// implements it; it is declared here, by its consumer, so the logic can be
// tested with a small fake as well as against the emulator.
//
// Each Put replaces one aspect document whole, reads it back and verifies
// it; nil is absent (delete, logging off, the empty notification
// configuration). Every write is idempotent.
type Provider interface {
	Identity(ctx context.Context) (settings.Identity, error)
	ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState
	DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error)

	PutPublicAccessBlock(ctx context.Context, ref settings.BucketRef, v *settings.PublicAccessBlock) error
	PutOwnership(ctx context.Context, ref settings.BucketRef, v *settings.Ownership) error
	PutEncryption(ctx context.Context, ref settings.BucketRef, v *settings.Encryption) error
	PutLogging(ctx context.Context, ref settings.BucketRef, v *settings.Logging) error
	PutPolicy(ctx context.Context, ref settings.BucketRef, v *settings.Policy) error
	PutNotifications(ctx context.Context, ref settings.BucketRef, v *settings.Notifications) error
	// PutVersioning sets the versioning status (never MFA delete); nil
	// is refused, since S3 can only suspend versioning.
	PutVersioning(ctx context.Context, ref settings.BucketRef, v *settings.VersioningConfig) error

	// CreateBucket creates a bucket with S3's modern defaults (all four
	// Block Public Access flags, BucketOwnerEnforced, SSE-S3); created is
	// false when it already existed.
	CreateBucket(ctx context.Context, ref settings.BucketRef) (created bool, err error)
	// CreateKey makes a customer-managed symmetric key named alias, or
	// returns the key the alias already names.
	CreateKey(ctx context.Context, region, alias, description string) (settings.KeyInfo, error)

	// The account level: Block Public Access (nil is delete), the trail
	// (nil when it does not exist; PutTrail creates or updates it to
	// exactly the given trail), and key policies for the trail's key.
	AccountPublicAccessBlock(ctx context.Context) (*settings.PublicAccessBlock, error)
	PutAccountPublicAccessBlock(ctx context.Context, v *settings.PublicAccessBlock) error
	Trail(ctx context.Context, region, name string) (*settings.Trail, error)
	PutTrail(ctx context.Context, want settings.Trail) error
	DeleteTrail(ctx context.Context, region, name string) error
	KeyPolicy(ctx context.Context, region, keyID string) (string, error)
	PutKeyPolicy(ctx context.Context, region, keyID, policy string) error
	CreateKeyWithPolicy(ctx context.Context, region, alias, description, policy string) (settings.KeyInfo, error)

	Topic(ctx context.Context, arn string) (settings.Topic, error)
	CreateTopic(ctx context.Context, region, name string) (settings.Topic, error)
	PutTopicPolicy(ctx context.Context, arn string, policy string) error
}

// ErrorCode is the AWS error code an error carries ("AccessDenied",
// "MalformedPolicy", ...), through any wrapping; "" when there is none (a
// timeout, a read-back mismatch, a refusal of apply's own). The SDK's
// smithy.APIError has the method; apply does not import the SDK.
func ErrorCode(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}
