package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

const allTrue = `{"block_public_acls":true,"ignore_public_acls":true,"block_public_policy":true,"restrict_public_buckets":true}`

func TestDiffPublicAccessBlock(t *testing.T) {
	runDiffCases(t, settings.BlockPublicAccess, map[string]diffCase{
		"AllOn": {
			reason: "all four flags on the bucket comply",
			action: "no-op", before: allTrue, after: allTrue,
		},
		"AccountCovers": {
			reason: "the effective flags count: the account's flags cover a bucket without its own",
			state:  func(s *settings.BucketState) { s.PublicAccessBlock = nil },
			input:  func(in *Input) { in.Account.PublicAccessBlock = allOn() },
			action: "no-op", before: "null", inReason: "account-level",
		},
		"Absent": {
			reason: "a legacy bucket without Block Public Access gets all four flags",
			state:  func(s *settings.BucketState) { s.PublicAccessBlock = nil },
			action: "create", before: "null", after: allTrue, inReason: "not configured",
		},
		"Partial": {
			reason: "flags off are turned on, the bucket's own flags are the before",
			state: func(s *settings.BucketState) {
				s.PublicAccessBlock = &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
			},
			action:   "update",
			before:   `{"block_public_acls":true,"ignore_public_acls":true,"block_public_policy":false,"restrict_public_buckets":false}`,
			after:    allTrue,
			inReason: "block_public_policy, restrict_public_buckets",
		},
		"PartialWithAccount": {
			reason: "bucket OR account per flag: together all on",
			state: func(s *settings.BucketState) {
				s.PublicAccessBlock = &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
			},
			input: func(in *Input) {
				in.Account.PublicAccessBlock = &settings.PublicAccessBlock{BlockPublicPolicy: true, RestrictPublicBuckets: true}
			},
			action: "no-op",
		},
		"AccountUnreadable": {
			reason: "an unreadable account block is said, and the bucket's own flags decide",
			state:  func(s *settings.BucketState) { s.PublicAccessBlock = nil },
			input:  func(in *Input) { in.Account.PublicAccessBlockError = "get account public access block: AccessDenied" },
			action: "create", warn: "account-level Block Public Access could not be read",
		},
		"NotEnforcedByLow": {
			reason:   "low does not enforce block_public_access: no change at all",
			baseline: "low",
			state:    func(s *settings.BucketState) { s.PublicAccessBlock = nil },
		},
	})
}

func TestDiffOwnership(t *testing.T) {
	enforced := `{"rule":"BucketOwnerEnforced"}`
	runDiffCases(t, settings.ObjectOwnership, map[string]diffCase{
		"Enforced": {reason: "BucketOwnerEnforced complies", action: "no-op", before: enforced},
		"Absent": {
			reason: "no ownership controls is ObjectWriter: create",
			state:  func(s *settings.BucketState) { s.Ownership = nil },
			action: "create", before: "null", after: enforced, inReason: "ACLs enabled", impact: "objects may be shared through their own ACLs",
		},
		"ObjectWriter": {
			reason: "ObjectWriter is updated; object ACLs cannot be read from the bucket, so it carries that impact",
			state:  func(s *settings.BucketState) { s.Ownership = &settings.Ownership{Rule: settings.OwnershipObjectWriter} },
			action: "update", before: `{"rule":"ObjectWriter"}`, after: enforced, impact: "BucketOwnerEnforced disables them",
		},
		"Preferred": {
			reason: "BucketOwnerPreferred still allows ACLs",
			state: func(s *settings.BucketState) {
				s.Ownership = &settings.Ownership{Rule: settings.OwnershipBucketOwnerPreferred}
			},
			action: "update", after: enforced, impact: "objects may be shared",
		},
		"ACLGrantsOthers": {
			reason: "S3 refuses BucketOwnerEnforced while the bucket ACL grants others: held back before the first write",
			state: func(s *settings.BucketState) {
				s.Ownership = nil
				s.ACL = &settings.ACL{Owner: testOwnerID, Grants: append(privateACL().Grants,
					settings.Grant{Type: "Group", URI: settings.GroupLogDelivery, Permission: "WRITE"})}
			},
			action: "create", held: "InvalidBucketAclWithObjectOwnership", impact: "objects may be shared",
		},
		"ACLUnread": {
			reason: "with the ACL not read, whether S3 would refuse cannot be told: held back",
			state: func(s *settings.BucketState) {
				s.Ownership = nil
				s.Observed = slices.DeleteFunc(slices.Clone(s.Observed), func(a settings.Aspect) bool { return a == settings.AspectACL })
			},
			action: "create", held: "the bucket ACL was not read",
			err: "acl_grants: the bucket's acl was not observed",
		},
	})
}

func TestDiffBlockSSEC(t *testing.T) {
	enc := func(e *settings.Encryption) func(*settings.BucketState) {
		return func(s *settings.BucketState) { s.Encryption = e }
	}
	runDiffCases(t, settings.BlockSSEC, map[string]diffCase{
		"Blocked": {reason: "a rule blocking SSE-C complies", action: "no-op"},
		"NotBlocked": {
			reason: "a rule without BlockedEncryptionTypes: the same rule with SSE-C blocked, nothing else changed",
			state:  enc(&settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: testKeyARN}),
			action: "update",
			before: `{"algorithm":"aws:kms:dsse","kms_key_id":"` + testKeyARN + `","bucket_key_enabled":false}`,
			after:  `{"algorithm":"aws:kms:dsse","kms_key_id":"` + testKeyARN + `","bucket_key_enabled":false,"blocked_encryption_types":["SSE-C"]}`,
		},
		"BlockedNone": {
			reason: "NONE blocks nothing: it is replaced by SSE-C",
			state:  enc(&settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"NONE"}}),
			action: "update", after: `{"algorithm":"AES256","bucket_key_enabled":false,"blocked_encryption_types":["SSE-C"]}`,
		},
		"Legacy": {
			reason: "a legacy bucket without a rule gets SSE-S3 with SSE-C blocked",
			state:  enc(nil),
			action: "create", before: "null", after: `{"algorithm":"AES256","bucket_key_enabled":false,"blocked_encryption_types":["SSE-C"]}`,
		},
		"LowHasNone": {
			reason:   "low does not have the control",
			baseline: "low",
			state:    enc(&settings.Encryption{Algorithm: settings.SSES3}),
		},
	})
}

func TestDiffPolicyRefusedUpFront(t *testing.T) {
	publicRead := `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	lock := string(AdminLockStatement(testBucket, testLock()))
	runDiffCases(t, settings.TLSOnly, map[string]diffCase{
		"PublicUnderBlockPublicPolicy": {
			reason: "a public policy under BlockPublicPolicy: S3 refuses every write of it, so tls_only is held back before the first write",
			state: func(s *settings.BucketState) {
				s.Policy = policyOf(lock, publicRead)
				s.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			action: "create", held: "S3 refuses every write of it",
		},
		"PublicWithoutBlockPublicPolicy": {
			reason: "without BlockPublicPolicy the public policy can be written",
			state: func(s *settings.BucketState) {
				s.Policy = policyOf(lock, publicRead)
				s.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
				s.PublicAccessBlock = &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
			},
			action: "create",
		},
		"TooBig": {
			reason: "a merged policy over 20 KB is held back with the size",
			state: func(s *settings.BucketState) {
				big := `{"Sid":"Big","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/` + strings.Repeat("x", 20400) + `"}`
				s.Policy = policyOf(lock, big)
			},
			action: "create", held: "over AWS's limit",
		},
	})
}

func TestDiffEncryption(t *testing.T) {
	wantKMS := `{"algorithm":"aws:kms","kms_key_id":"` + testKeyARN + `","key_arn":"` + testKeyARN + `","bucket_key_enabled":true}`
	wantSSES3 := `{"algorithm":"AES256","bucket_key_enabled":false}`
	enc := func(e *settings.Encryption) func(*settings.BucketState) {
		return func(s *settings.BucketState) { s.Encryption = e }
	}
	logTarget := func(in *Input) {
		in.State.Name = testLogs
		in.Desired.IsLogTarget = true
	}
	runDiffCases(t, settings.DefaultEncryption, map[string]diffCase{
		"HighAliasResolvesToKey": {
			reason: "high: the bucket names the key by alias, which resolves to the configured key's ARN",
			action: "no-op",
		},
		"HighKeyByARN": {
			reason: "high: the key's ARN written verbatim is the same key",
			state:  enc(&settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: testKeyARN, BucketKeyEnabled: true}),
			action: "no-op",
		},
		"HighDSSE": {
			reason: "high: DSSE-KMS with the key complies without a Bucket Key (there is none for DSSE)",
			state:  enc(&settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: testKeyRef, KeyARN: testKeyARN}),
			action: "no-op",
		},
		"HighBucketKeyOff": {
			reason: "high: SSE-KMS with the key but no Bucket Key",
			state:  enc(&settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: testKeyRef, KeyARN: testKeyARN}),
			action: "update", after: wantKMS, inReason: "S3 Bucket Key off",
		},
		"HighAWSManaged": {
			reason: "high: SSE-KMS with aws/s3 is not the customer-managed key",
			state: enc(&settings.Encryption{Algorithm: settings.SSEKMS, KeyARN: "arn:aws:kms:eu-west-1:123456789012:key/aws-s3",
				BucketKeyEnabled: true}),
			action: "update", after: wantKMS, inReason: "aws/s3",
		},
		"HighOtherKey": {
			reason: "high: another customer key is not the configured one",
			state: enc(&settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: "alias/other",
				KeyARN: "arn:aws:kms:eu-west-1:123456789012:key/other", BucketKeyEnabled: true}),
			action: "update", after: wantKMS, inReason: testKeyARN,
			impact: "replaces the customer-managed key alias/other",
		},
		"HighDSSEOtherKey": {
			reason: "high: DSSE-KMS on another customer key keeps DSSE (both layers) and takes the configured key, stating the replacement",
			state: enc(&settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: "alias/team",
				KeyARN: "arn:aws:kms:eu-west-1:123456789012:key/team", KeyManager: "CUSTOMER"}),
			action: "update", after: `{"algorithm":"aws:kms:dsse","kms_key_id":"` + testKeyARN + `","key_arn":"` + testKeyARN + `","bucket_key_enabled":false}`,
			inReason: "DSSE-KMS is kept", impact: "replaces the customer-managed key alias/team",
		},
		"KeepsSSECBlock": {
			reason: "the rule's SSE-C block is carried over: a write never unblocks SSE-C",
			state:  enc(&settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"SSE-C"}}),
			action: "update",
			after:  `{"algorithm":"aws:kms","kms_key_id":"` + testKeyARN + `","key_arn":"` + testKeyARN + `","bucket_key_enabled":true,"blocked_encryption_types":["SSE-C"]}`,
		},
		"KMSOverPublicPolicy": {
			reason: "SSE-KMS on a bucket read through a public policy: anonymous readers cannot read KMS objects",
			state: func(s *settings.BucketState) {
				s.Encryption = &settings.Encryption{Algorithm: settings.SSES3}
				s.Policy = policyOf(`{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`)
				s.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
				s.PublicAccessBlock = nil
			},
			action: "update", after: wantKMS, impact: "never served to anonymous requests",
		},
		"KMSOverOAI": {
			reason: "SSE-KMS on a bucket a CloudFront origin access identity reads",
			state: func(s *settings.BucketState) {
				s.Encryption = &settings.Encryption{Algorithm: settings.SSES3}
				s.Policy = policyOf(`{"Sid":"OAI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`)
			},
			action: "update", after: wantKMS, impact: "origin access identity",
		},
		"KMSACLUnread": {
			reason: "with ACLs on and the ACL not read, what SSE-KMS cuts off cannot be told: held back",
			state: func(s *settings.BucketState) {
				s.Encryption = &settings.Encryption{Algorithm: settings.SSES3}
				s.Ownership = nil
				s.Observed = slices.DeleteFunc(slices.Clone(s.Observed), func(a settings.Aspect) bool { return a == settings.AspectACL })
			},
			action: "update", held: "the bucket ACL was not read",
			err: "acl_grants: the bucket's acl was not observed",
		},
		"HighSSES3": {
			reason: "high: SSE-S3 is updated to the key",
			state:  enc(&settings.Encryption{Algorithm: settings.SSES3}),
			action: "update", before: wantSSES3, after: wantKMS,
		},
		"HighLegacy": {
			reason: "high: a legacy bucket without default encryption gets the key",
			state:  enc(nil),
			action: "create", before: "null", after: wantKMS,
		},
		"HighKeyToCreate": {
			reason: "a missing key with create_key: after names the ref and the reason says it will be created",
			state:  enc(&settings.Encryption{Algorithm: settings.SSES3}),
			input:  func(in *Input) { in.Desired.Key = settings.KeyInfo{Ref: testKeyRef} },
			action: "update",
			after:  `{"algorithm":"aws:kms","kms_key_id":"alias/s3baseline","bucket_key_enabled":true}`, inReason: "will create",
		},
		"HighKeyMissing": {
			reason: "a missing key without create_key is a bucket error",
			input: func(in *Input) {
				in.Desired.Key = settings.KeyInfo{Ref: testKeyRef}
				in.Desired.CreateKey = false
			},
			err: "does not exist",
		},
		"HighKeyUnreadable": {
			reason: "a key that cannot be described is a bucket error",
			input:  func(in *Input) { in.Desired.Key, in.Desired.KeyErr = settings.KeyInfo{}, "AccessDeniedException: no" },
			err:    "describe KMS key alias/s3baseline in eu-west-1: AccessDeniedException",
		},
		"HighAWSManagedConfigured": {
			reason: "high needs a customer-managed key",
			input:  func(in *Input) { in.Desired.Key.Manager = "AWS" },
			err:    "AWS-managed key",
		},
		"HighNoKeyConfigured": {
			reason: "high without settings.encryption.kms_key is a bucket error",
			input:  func(in *Input) { in.Desired.KeyRef, in.Desired.Key = "", settings.KeyInfo{} },
			err:    "settings.encryption.kms_key is not set",
		},
		"LogTargetKeepsSSES3": {
			reason: "a log target on SSE-S3 complies whatever the baseline",
			state:  enc(&settings.Encryption{Algorithm: settings.SSES3}),
			input:  logTarget,
			action: "no-op", warn: "never logs into itself",
		},
		"LogTargetOnKMS": {
			reason: "a log target on SSE-KMS is never weakened to SSE-S3; the plan warns that delivery may fail",
			input:  logTarget,
			action: "no-op", inReason: "never weakened",
			warn: "never weakens encryption",
		},
		"MediumSSES3": {
			reason:   "medium: SSE-S3 is updated to SSE-KMS with the configured key",
			baseline: "medium",
			state:    enc(&settings.Encryption{Algorithm: settings.SSES3}),
			action:   "update", after: wantKMS,
		},
		"MediumAWSManaged": {
			reason:   "medium: SSE-KMS with any key complies",
			baseline: "medium",
			state:    enc(&settings.Encryption{Algorithm: settings.SSEKMS}),
			action:   "no-op",
		},
		"MediumDSSE": {
			reason:   "medium: DSSE-KMS complies",
			baseline: "medium",
			state:    enc(&settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: "alias/x"}),
			action:   "no-op",
		},
		"MediumNoKeyConfigured": {
			reason:   "medium without a configured key uses aws/s3",
			baseline: "medium",
			state:    enc(&settings.Encryption{Algorithm: settings.SSES3}),
			input:    func(in *Input) { in.Desired.KeyRef, in.Desired.Key = "", settings.KeyInfo{} },
			action:   "update", after: `{"algorithm":"aws:kms","bucket_key_enabled":true}`,
		},
		"LowSSES3": {
			reason:   "low: SSE-S3 complies",
			baseline: "low",
			state:    enc(&settings.Encryption{Algorithm: settings.SSES3}),
			action:   "no-op",
		},
		"LowLegacy": {
			reason:   "low: a legacy bucket without default encryption gets SSE-S3",
			baseline: "low",
			state:    enc(nil),
			action:   "create", before: "null", after: wantSSES3,
		},
	})
}

func TestDiffLogging(t *testing.T) {
	want := `{"target_bucket":"` + testLogs + `","target_prefix":"s3/","key_format":"partitioned","partition_date_source":"EventTime"}`
	logging := func(l *settings.Logging) func(*settings.BucketState) {
		return func(s *settings.BucketState) { s.Logging = l }
	}
	runDiffCases(t, settings.AccessLogging, map[string]diffCase{
		"Compliant": {reason: "logs to the region's log bucket, partitioned", action: "no-op", before: want},
		"Off": {
			reason: "logging off is created",
			state:  logging(nil),
			action: "create", before: "null", after: want, inReason: "off",
		},
		"SimpleKeys": {
			reason: "the simple key format is updated",
			state:  logging(&settings.Logging{TargetBucket: testLogs, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatSimple}),
			action: "update", after: want, inReason: "key_format",
		},
		"DefaultDateSource": {
			reason: "a partitioned format without a date source is EventTime, AWS's default",
			state:  logging(&settings.Logging{TargetBucket: testLogs, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned}),
			action: "no-op",
		},
		"DeliveryTime": {
			reason: "partitioned by delivery time is updated",
			state: logging(&settings.Logging{TargetBucket: testLogs, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned,
				PartitionDateSource: settings.DeliveryTime}),
			action: "update", inReason: "partition_date_source",
		},
		"OtherTarget": {
			reason: "another target bucket and prefix are updated field by field",
			state: logging(&settings.Logging{TargetBucket: "old-logs", TargetPrefix: "", KeyFormat: settings.KeyFormatPartitioned,
				PartitionDateSource: settings.EventTime}),
			action: "update", after: want, inReason: `target_bucket is "old-logs"`,
		},
		"LogTarget": {
			reason: "the log bucket never logs into itself: no change, a warning",
			state:  logging(nil),
			input: func(in *Input) {
				in.State.Name = testLogs
				in.State.Encryption = &settings.Encryption{Algorithm: settings.SSES3}
				in.Desired.IsLogTarget = true
			},
			warn: "never logs into itself",
		},
		"NoTarget": {
			reason: "no target template configured is a bucket error",
			input:  func(in *Input) { in.Desired.LogTarget = "" },
			err:    "settings.logging.target_bucket",
		},
	})
}

func TestDiffTLSOnly(t *testing.T) {
	ours := string(TLSStatement("", testBucket))
	admin := string(AdminLockStatement(testBucket, testLock()))
	policy := func(stmts ...string) func(*settings.BucketState) {
		return func(s *settings.BucketState) { s.Policy = policyOf(stmts...) }
	}
	runDiffCases(t, settings.TLSOnly, map[string]diffCase{
		"Ours": {reason: "our statement complies", action: "no-op", before: ours},
		"ForeignNormalised": {
			reason: `a foreign statement complies after normalisation: {"AWS":"*"}, action case, scalar resource list, false as a boolean`,
			state: policy(admin, `{"Sid":"TLS","Effect":"Deny","Principal":{"AWS":["*"]},"Action":"S3:*",`+
				`"Resource":["arn:aws:s3:::data/*","arn:aws:s3:::data"],"Condition":{"Bool":{"aws:securetransport":false}}}`),
			action: "no-op", before: "null", inReason: `"TLS"`,
		},
		"ForeignWildcards": {
			reason: "Action * and a resource pattern covering the bucket and its objects count",
			state: policy(admin, `{"Effect":"Deny","Principal":"*","Action":"*","Resource":"arn:aws:s3:::data*",`+
				`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			action: "no-op",
		},
		"NoPolicy": {
			reason: "no policy: our statement is created, exactly as the contract writes it",
			state:  func(s *settings.BucketState) { s.Policy = nil },
			action: "create", before: "null",
			after: `{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
				`"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
		},
		"AllowIfTLSOnly": {
			reason: "an Allow-if-TLS alone does not comply",
			state: policy(admin, `{"Sid":"AllowTLS","Effect":"Allow","Principal":"*","Action":"s3:GetObject",`+
				`"Resource":"arn:aws:s3:::data/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`),
			action: "create", after: ours,
		},
		"ObjectsOnly": {
			reason: "a Deny on the objects only does not cover the bucket: our broken statement is updated",
			state: policy(admin, `{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",`+
				`"Resource":"arn:aws:s3:::data/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			action: "update",
			before: `{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::data/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
			after:  ours,
		},
		"NarrowedByCondition": {
			reason: "another condition narrows the Deny",
			state: policy(admin, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],`+
				`"Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:SourceVpc":"vpc-1"}}}`),
			action: "create",
		},
		"SomePrincipals": {
			reason: "a Deny for some principals only is not a Deny for everyone",
			state: policy(admin, `{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],`+
				`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			action: "create",
		},
		"Unparseable": {
			reason: "a policy that cannot be parsed is a bucket error, not a change",
			state:  func(s *settings.BucketState) { s.Policy = &settings.Policy{Raw: `{"Statement":[1]}`} },
			err:    "bucket policy cannot be read",
		},
		"Unreadable": {
			reason: "a policy read error is an error line and no change",
			state: func(s *settings.BucketState) {
				s.Observed = []settings.Aspect{settings.AspectPublicAccessBlock, settings.AspectOwnership, settings.AspectEncryption,
					settings.AspectLogging, settings.AspectNotifications}
				s.Errors = map[settings.Aspect]string{settings.AspectPolicy: "get bucket policy: AccessDenied: denied"}
				s.Policy = nil
			},
			err: "get bucket policy: AccessDenied: denied",
		},
	})
}

func TestDiffAdminLock(t *testing.T) {
	ours := string(AdminLockStatement(testBucket, testLock()))
	tls := string(TLSStatement("", testBucket))
	policy := func(stmts ...string) func(*settings.BucketState) {
		return func(s *settings.BucketState) { s.Policy = policyOf(stmts...) }
	}
	principals := func(p ...string) func(*Input) {
		return func(in *Input) {
			cfg := testConfig(in.Assignment.Baseline)
			cfg.Settings.AdminLock.Deny = p
			in.Desired = DesiredFor(cfg, testAccountState(), settings.BucketRef{Name: testBucket, Region: testRegion}, testKey(), nil)
		}
	}
	runDiffCases(t, settings.AdminPolicyLock, map[string]diffCase{
		"Ours": {reason: "our statement complies", action: "no-op", before: ours},
		"NoPolicy": {
			reason: "no policy: our statement is created, exactly as the contract writes it",
			state:  func(s *settings.BucketState) { s.Policy = nil },
			action: "create", before: "null",
			after: `{"Sid":"S3BaselineDenyAdminPolicyChanges","Effect":"Deny","Principal":{"AWS":["` + testAdmin + `"]},` +
				`"Action":["s3:DeleteBucketPolicy","s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":"arn:aws:s3:::data",` +
				`"Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::123456789012:role/Ops","arn:aws:iam::123456789012:role/*/Ops"]}}}`,
			inReason: "S3UnlockBucketPolicy",
		},
		"OldStatement": {
			reason: "our statement of an earlier release, without the exception of the caller's role: updated",
			state: policy(tls, `{"Sid":"S3BaselineDenyAdminPolicyChanges","Effect":"Deny","Principal":{"AWS":["`+testAdmin+`"]},`+
				`"Action":["s3:DeleteBucketPolicy","s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":"arn:aws:s3:::data"}`),
			action: "update", after: ours,
		},
		"Configuration": {
			reason: "actions: configuration denies every action that can weaken the bucket, the caller's role excepted",
			input: func(in *Input) {
				cfg := testConfig(in.Assignment.Baseline)
				cfg.Settings.AdminLock.Actions = baselines.AdminLockConfiguration
				in.Desired = DesiredFor(cfg, testAccountState(), settings.BucketRef{Name: testBucket, Region: testRegion}, testKey(), nil)
			},
			action: "update",
			after: `{"Sid":"S3BaselineDenyAdminPolicyChanges","Effect":"Deny","Principal":{"AWS":["` + testAdmin + `"]},` +
				`"Action":["s3:DeleteBucketPolicy","s3:GetBucketPolicy","s3:PutBucketAcl","s3:PutBucketLogging","s3:PutBucketNotification",` +
				`"s3:PutBucketOwnershipControls","s3:PutBucketPolicy","s3:PutBucketPublicAccessBlock","s3:PutBucketVersioning","s3:PutEncryptionConfiguration"],` +
				`"Resource":"arn:aws:s3:::data",` +
				`"Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::123456789012:role/Ops","arn:aws:iam::123456789012:role/*/Ops"]}}}`,
			inReason: "every action that can weaken the bucket's configuration",
		},
		"AccountTemplate": {
			reason: "{account} is filled in with the bucket's account",
			input: func(in *Input) {
				cfg := testConfig(in.Assignment.Baseline)
				cfg.Settings.AdminLock.Deny = []string{"arn:aws:iam::{account}:role/LegacyFullAdmin"}
				in.Desired = DesiredFor(cfg, testAccountState(), settings.BucketRef{Name: testBucket, Region: testRegion}, testKey(), nil)
			},
			action: "no-op", before: ours,
		},
		"ForeignWildcardAction": {
			reason: "a foreign Deny with s3:*BucketPolicy and a scalar principal covers the three actions",
			state: policy(tls, `{"Sid":"Lock","Effect":"Deny","Principal":{"AWS":"`+testAdmin+`"},"Action":"S3:*BucketPolicy",`+
				`"Resource":"arn:aws:s3:::data"}`),
			action: "no-op", before: "null",
		},
		"AccountIDvsRoot": {
			reason: "a configured account id matches the root ARN AWS stores",
			state: policy(tls, `{"Sid":"Lock","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},`+
				`"Action":["s3:PutBucketPolicy","s3:DeleteBucketPolicy","s3:GetBucketPolicy"],"Resource":["arn:aws:s3:::data"]}`),
			input:  principals("111122223333"),
			action: "no-op",
		},
		"MissingAction": {
			reason: "a Deny without s3:GetBucketPolicy does not comply",
			state: policy(tls, `{"Sid":"Lock","Effect":"Deny","Principal":{"AWS":"`+testAdmin+`"},`+
				`"Action":["s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"arn:aws:s3:::data"}`),
			action: "create", after: ours,
		},
		"Conditional": {
			reason: "a conditional Deny does not comply",
			state: policy(tls, `{"Sid":"Lock","Effect":"Deny","Principal":{"AWS":"`+testAdmin+`"},"Action":"s3:*",`+
				`"Resource":"arn:aws:s3:::data","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`),
			action: "create",
		},
		"MissingPrincipal": {
			reason: "every configured principal must be covered",
			input:  principals(testAdmin, "arn:aws:iam::123456789012:role/Auditor"),
			action: "update", before: ours, inReason: "Auditor",
		},
		"Empty": {
			reason: "no principals configured is a bucket error naming the setting",
			input:  principals(),
			err:    "settings.admin_lock.deny",
		},
		"CallerIsPrincipal": {
			reason: "the caller's assumed role among the principals would lock the tool out: no change, an error",
			state:  func(s *settings.BucketState) { s.Policy = policyOf(tls) },
			input:  principals(testAdmin, "arn:aws:iam::123456789012:role/Ops"),
			action: "create", held: "the caller " + testCaller + " is among settings.admin_lock.deny",
		},
		"CallerRoleWithPath": {
			reason: "the session ARN drops the role's path, the role name still matches",
			state:  func(s *settings.BucketState) { s.Policy = policyOf(tls) },
			input:  principals("arn:aws:iam::123456789012:role/team/Ops"),
			action: "create", held: "would name s3baseline itself",
		},
		"CallerRoot": {
			reason: "the account root caller matches a root principal",
			state:  func(s *settings.BucketState) { s.Policy = policyOf(tls) },
			input: func(in *Input) {
				principals(testAccount)(in)
				in.Account.Caller = "arn:aws:iam::123456789012:root"
			},
			action: "create", held: "would name s3baseline itself",
		},
		"Star": {
			reason: "a principal * denies everyone but the caller's role, which the statement excepts: planned",
			state:  func(s *settings.BucketState) { s.Policy = policyOf(tls) },
			input:  principals("*"),
			action: "create", inReason: "except the caller's own principal",
		},
	})
}

func TestDiffNotifications(t *testing.T) {
	ours := ourEntry()
	notif := func(eventBridge bool, entries ...settings.NotificationEntry) func(*settings.BucketState) {
		return func(s *settings.BucketState) {
			s.Notifications = &settings.Notifications{Entries: entries, EventBridge: eventBridge}
		}
	}
	wantJSON := string(rawJSON(ours))
	reordered := ours
	reordered.Events = []string{"s3:ObjectRemoved:*", "s3:ObjectCreated:*"}
	otherTopic := ours
	otherTopic.ARN = "arn:aws:sns:eu-west-1:123456789012:old"
	filtered := ours
	filtered.Filter = []settings.FilterRule{{Name: "prefix", Value: "in/"}}
	queue := settings.NotificationEntry{ID: "ingest", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:123456789012:ingest",
		Events: []string{"s3:ObjectCreated:Put"}}
	restore := settings.NotificationEntry{ID: "restore", Kind: settings.DestLambda, ARN: "arn:aws:lambda:eu-west-1:123456789012:function:r",
		Events: []string{"s3:ObjectRestore:Completed"}}
	runDiffCases(t, settings.EventNotifications, map[string]diffCase{
		"Ours":      {reason: "our entry complies", action: "no-op", before: wantJSON},
		"EventsSet": {reason: "events compare as a set", state: notif(false, reordered), action: "no-op"},
		"None": {
			reason: "no configuration: our entry is created",
			state:  func(s *settings.BucketState) { s.Notifications = nil },
			action: "create", before: "null", after: wantJSON,
		},
		"OtherTopic": {
			reason: "our entry to another topic is updated",
			state:  notif(false, otherTopic),
			action: "update", after: wantJSON, inReason: ":old",
		},
		"Filtered": {
			reason: "our entry must not be filtered",
			state:  notif(false, filtered),
			action: "update", after: wantJSON,
		},
		"ForeignOverlap": {
			reason: "a foreign entry overlapping ours holds our change back alone, naming it",
			state:  notif(true, queue),
			action: "create", held: `queue notification "ingest"`,
		},
		"ForeignDisjoint": {
			reason: "a foreign entry on other events does not overlap",
			state:  notif(false, restore),
			action: "create",
		},
		"NoTopic": {
			reason: "no topic configured is a bucket error",
			input:  func(in *Input) { in.Desired.TopicARN = "" },
			err:    "settings.notifications.topic",
		},
	})
}

func TestPreserved(t *testing.T) {
	in := testInput(t, "high")
	in.State.Policy = policyOf(
		`{"Sid":"AllowPartnerRead","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`,
		`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*"}`,
		string(AdminLockStatement(testBucket, testLock())),
	)
	in.State.Notifications = &settings.Notifications{EventBridge: true, Entries: []settings.NotificationEntry{
		{ID: "ingest", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:123456789012:ingest", Events: []string{"s3:ObjectRestore:Completed"}},
	}}
	got := Diff(in).Preserved
	want := &Preserved{
		PolicyStatements: []string{"AllowPartnerRead", "statement 2 (no Sid)"},
		Notifications:    []string{"queue ingest (s3:ObjectRestore:Completed)", "EventBridge"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Preserved: -want, +got:\n%s", diff)
	}

	// Nothing planned on the policy or the notifications: nothing to keep.
	in = testInput(t, "high")
	in.State.Policy = policyOf(`{"Sid":"AllowPartnerRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`,
		string(TLSStatement("", testBucket)), string(AdminLockStatement(testBucket, testLock())))
	if got := Diff(in).Preserved; got != nil {
		t.Errorf("Preserved = %+v, want nil when no policy or notification change is planned", got)
	}
}

func TestDiffExemptions(t *testing.T) {
	in := testInput(t, "high")
	in.State.Notifications = nil
	in.State.Ownership = nil
	in.Assignment.Exempt = []baselines.Exemption{{Control: settings.EventNotifications, Reason: "analytics pipeline", Until: "2027-06-30"}}
	in.Assignment.Lapsed = []baselines.Exemption{{Control: settings.ObjectOwnership, Reason: "legacy ACL readers", Until: "2025-01-31"}}
	bp := Diff(in)
	if _, ok := findChange(bp, settings.EventNotifications); ok {
		t.Error("an exempt control must not be diffed")
	}
	if diff := cmp.Diff([]Exemption{{Control: settings.EventNotifications, Reason: "analytics pipeline", Until: "2027-06-30"}}, bp.Exempt); diff != "" {
		t.Errorf("Exempt: -want, +got:\n%s", diff)
	}
	if ch, ok := findChange(bp, settings.ObjectOwnership); !ok || ch.Action != Create {
		t.Errorf("a lapsed exemption's control must be diffed normally, got %+v", ch)
	}
	want := []string{"exemption of object_ownership lapsed on 2025-01-31 (legacy ACL readers): enforced again"}
	if diff := cmp.Diff(want, bp.Warnings); diff != "" {
		t.Errorf("Warnings: -want, +got:\n%s", diff)
	}
}

func TestDiffOrderAndNoOps(t *testing.T) {
	in := testInput(t, "high")
	bp := Diff(in)
	if len(bp.Findings) > 0 {
		t.Errorf("compliant bucket has findings: %+v", bp.Findings)
	}
	var ids []settings.ControlID
	for _, c := range bp.Changes {
		if c.Action != NoOp {
			t.Errorf("compliant bucket: %s is %s, want no-op (%s)", c.Control, c.Action, c.Reason)
		}
		ids = append(ids, c.Control)
	}
	var enforceable []settings.ControlID
	for _, id := range settings.BucketControls {
		if in.Assignment.Baseline.Enforced(id) {
			enforceable = append(enforceable, id)
		}
	}
	if len(enforceable) != 9 {
		t.Errorf("high enforces %d bucket controls, want 9: %v", len(enforceable), enforceable)
	}
	if diff := cmp.Diff(enforceable, ids); diff != "" {
		t.Errorf("a compliant high bucket lists every enforced bucket control as a no-op in plan order: -want, +got:\n%s", diff)
	}
	if len(bp.Errors) != 0 || len(bp.Warnings) != 0 {
		t.Errorf("unexpected messages: errors %q, warnings %q", bp.Errors, bp.Warnings)
	}
	if !bp.Compliant() {
		t.Error("Compliant() = false for a compliant bucket")
	}
}

func TestDesiredFor(t *testing.T) {
	cfg := testConfig(builtin(t, "high"))
	cfg.Settings.AdminLock.Deny = []string{testAdmin, "111122223333", testAdmin}
	cfg.Settings.Notifications.Events = []string{"s3:ObjectRemoved:*", "s3:ObjectCreated:*"}
	d := DesiredFor(cfg, testAccountState(), settings.BucketRef{Name: testLogs, Region: testRegion}, testKey(), errors.New("boom"))
	want := Desired{
		LogTarget: testLogs, LogPrefix: "s3/", IsLogTarget: true,
		KeyRef: testKeyRef, Key: testKey(), KeyErr: "boom", CreateKey: true,
		TopicARN:  testTopic,
		Events:    []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
		Partition: "aws",
		AdminLock: AdminLock{Partition: "aws", Principals: []string{"arn:aws:iam::111122223333:root", testAdmin}, Actions: baselines.AdminLockPolicy,
			Except: []string{"arn:aws:iam::123456789012:role/Ops", "arn:aws:iam::123456789012:role/*/Ops"}},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("DesiredFor: -want, +got:\n%s", diff)
	}
	if got := TopicARN("aws", "arn:aws:sns:us-east-1:999999999999:t", testAccount, testRegion); got != "arn:aws:sns:us-east-1:999999999999:t" {
		t.Errorf("a topic ARN must be kept, got %s", got)
	}
}
