package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// Shared resources: the region's KMS key, server access log bucket and SNS
// topic. Each is ensured once per run and region however many buckets need
// it, and a resource the tool creates gets a "created" journal record;
// rollback lists those and never deletes them.

// KeyDescription is the description of a KMS key the tool creates.
const KeyDescription = "s3baseline default encryption key (created by s3baseline apply)"

// statement is a policy statement as the tool writes it, fixed key order.
type statement struct {
	Sid       string `json:"Sid"`
	Effect    string `json:"Effect"`
	Principal any    `json:"Principal"`
	Action    any    `json:"Action"`
	Resource  any    `json:"Resource"`
	Condition any    `json:"Condition,omitempty"`
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("apply: marshal statement: " + err.Error())
	}
	return b
}

// LogDeliveryStatement is the log bucket's grant to the S3 logging service:
// s3:PutObject under the log prefix, for any source bucket of the account.
// One statement serves every source bucket, so the policy does not grow
// with the number of buckets that log.
func LogDeliveryStatement(partition, target, prefix, account string) json.RawMessage {
	return mustJSON(statement{
		Sid:       settings.SidServerAccessLogs,
		Effect:    "Allow",
		Principal: map[string]string{"Service": "logging.s3.amazonaws.com"},
		Action:    "s3:PutObject",
		Resource:  settings.BucketARN(partition, target) + "/" + prefix + "*",
		Condition: map[string]map[string]string{
			"ArnLike":      {"aws:SourceArn": settings.BucketARN(partition, "*")},
			"StringEquals": {"aws:SourceAccount": account},
		},
	})
}

// TopicPublishStatement is the topic's grant to S3: SNS:Publish from any
// bucket of the account.
func TopicPublishStatement(topicARN, account string) json.RawMessage {
	partition := settings.PartitionOf(topicARN)
	return mustJSON(statement{
		Sid:       settings.SidAllowS3Publish,
		Effect:    "Allow",
		Principal: map[string]string{"Service": "s3.amazonaws.com"},
		Action:    "SNS:Publish",
		Resource:  topicARN,
		Condition: map[string]map[string]string{
			"ArnLike":      {"aws:SourceArn": settings.BucketARN(partition, "*")},
			"StringEquals": {"aws:SourceAccount": account},
		},
	})
}

// ensureKey resolves the configured KMS key in a region, creating it when
// it does not exist and settings.encryption.create_key allows it.
func (a *applier) ensureKey(ctx context.Context, region, ref string) (settings.KeyInfo, error) {
	return a.keys.do(region+"|"+ref, func() (settings.KeyInfo, error) {
		info, err := a.p.DescribeKey(ctx, region, ref)
		if err != nil {
			return info, err
		}
		if info.Exists {
			if !info.Enabled {
				return info, fmt.Errorf("the KMS key %s (%s) in %s is disabled", ref, info.ARN, region)
			}
			return info, nil
		}
		if !a.cfg.Settings.Encryption.CreateKey {
			return info, fmt.Errorf("the KMS key %s does not exist in %s and settings.encryption.create_key is off", ref, region)
		}
		alias := aliasName(ref)
		if alias == "" {
			return info, fmt.Errorf("the KMS key %s does not exist in %s, and only a key named by an alias can be created", ref, region)
		}
		info, _, err = a.createKey(region, func() (settings.KeyInfo, error) {
			return a.p.CreateKey(ctx, region, alias, KeyDescription)
		})
		return info, err
	})
}

// createKey runs create and journals the key it made. When another run
// named its key with the alias first (the provider's UnnamedKey error),
// that key is the one returned, with raced true, and the unnamed key made
// here is journaled too: no resource of the run is outside its journal.
func (a *applier) createKey(region string, create func() (settings.KeyInfo, error)) (info settings.KeyInfo, raced bool, err error) {
	info, err = create()
	var unnamed interface{ UnnamedKey() string }
	if errors.As(err, &unnamed) && info.Exists {
		a.created(Record{Kind: KindKey, Region: region, Target: unnamed.UnnamedKey(), Error: oneLine(err)}, nil)
		return info, true, nil
	}
	if err != nil {
		return info, false, err
	}
	a.created(Record{Kind: KindKey, Region: region, Target: info.ARN}, info)
	return info, false, nil
}

// aliasName is "alias/NAME" from an alias or an alias ARN, "" for a key id
// or key ARN.
func aliasName(ref string) string {
	if strings.HasPrefix(ref, "alias/") {
		return ref
	}
	if i := strings.Index(ref, ":alias/"); i >= 0 && strings.HasPrefix(ref, "arn:") {
		return ref[i+1:]
	}
	return ""
}

// ensureLogTarget creates the region's log bucket when
// settings.logging.create_target is on and it does not exist, and brings a
// bucket it created to the baseline right away (a log bucket is created
// compliant, so the next plan shows nothing for it).
func (a *applier) ensureLogTarget(ctx context.Context, target settings.BucketRef) error {
	_, err := a.targets.do(target.Region+"|"+target.Name, func() (struct{}, error) {
		if !a.cfg.Settings.Logging.CreateTarget {
			return struct{}{}, nil
		}
		created, err := a.p.CreateBucket(ctx, target)
		if err != nil {
			return struct{}{}, fmt.Errorf("log bucket s3://%s: %w", target.Name, err)
		}
		if created {
			a.created(Record{Kind: KindBucket, Bucket: target.Name, Region: target.Region}, target)
			a.makeCompliant(ctx, target)
		}
		return struct{}{}, nil
	})
	return err
}

// makeCompliant plans a bucket the tool just created against its baseline,
// the way plan plans every bucket (the keys the config names, the impact
// reads), and applies that plan the way every other bucket's is applied;
// its outcome is reported with the others. A key the plan finds missing is
// created by the write, as for any bucket.
func (a *applier) makeCompliant(ctx context.Context, ref settings.BucketRef) {
	bp := plan.Bucket(ctx, a.p, a.cfg, settings.AccountState{AccountID: a.account, Caller: a.id.ARN}, ref, a.now())
	out := a.bucket(ctx, bp, nil)
	a.mu.Lock()
	a.extra = append(a.extra, out)
	a.mu.Unlock()
}

// ensureTopic creates the notification topic when it does not exist and
// settings.notifications.create_topic is on.
func (a *applier) ensureTopic(ctx context.Context, arn string) error {
	_, err := a.topics.do(arn, func() (struct{}, error) {
		t, err := a.p.Topic(ctx, arn)
		if err != nil || t.Exists {
			return struct{}{}, err
		}
		if !a.cfg.Settings.Notifications.CreateTopic {
			return struct{}{}, fmt.Errorf("the SNS topic %s does not exist and settings.notifications.create_topic is off", arn)
		}
		region, account, name, ok := splitTopicARN(arn)
		if !ok {
			return struct{}{}, fmt.Errorf("the SNS topic %s does not exist, and that is not a topic ARN it could be created from", arn)
		}
		if account != a.account {
			return struct{}{}, fmt.Errorf("the SNS topic %s does not exist, and it would belong to account %s, not %s", arn, account, a.account)
		}
		t, err = a.p.CreateTopic(ctx, region, name)
		if err != nil {
			return struct{}{}, err
		}
		if t.ARN != arn {
			return struct{}{}, fmt.Errorf("created topic %s, but it is %s", arn, t.ARN)
		}
		a.created(Record{Kind: KindTopic, Region: region, Target: arn}, t)
		return struct{}{}, nil
	})
	return err
}

// splitTopicARN reads arn:PARTITION:sns:REGION:ACCOUNT:NAME.
func splitTopicARN(arn string) (region, account, name string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[5] == "" {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

// writeTopicGrant lets S3 publish to the topic for source's notifications
// (see grantOnce: the grant is the account's, so the run reads and writes
// it for the first bucket that needs it only).
func (a *applier) writeTopicGrant(ctx context.Context, source settings.BucketRef, arn string) (int, error) {
	set := map[string]json.RawMessage{settings.SidAllowS3Publish: TopicPublishStatement(arn, a.account)}
	return a.grantOnce("topic:"+arn, set, func() (int, error) {
		return a.mergeTopicPolicy(ctx, source, arn, set)
	})
}

// mergeTopicPolicy merges owned statements into the topic's current policy
// (re-read under the topic's lock) unless they are already there.
func (a *applier) mergeTopicPolicy(ctx context.Context, source settings.BucketRef, arn string, set map[string]json.RawMessage) (int, error) {
	unlock := a.locks.lock("topic:" + arn)
	defer unlock()
	t, err := a.p.Topic(ctx, arn)
	if err != nil {
		return 0, err
	}
	if !t.Exists {
		return 0, fmt.Errorf("the SNS topic %s does not exist", arn)
	}
	cur := topicPolicy(t)
	if ownedInPlace(cur, set, nil) {
		return 0, nil
	}
	merged, err := settings.MergePolicy(cur, set, nil)
	if err != nil {
		return 0, err
	}
	region, _, _, _ := splitTopicARN(arn)
	rec := Record{Account: a.account, Kind: KindTopic, Region: region, Aspect: string(settings.AspectPolicy),
		Controls: []settings.ControlID{settings.EventNotifications}, For: source.Name, Target: arn}
	err = a.write(ctx, rec, topicText(cur), merged.Raw, func(ctx context.Context) error {
		return a.p.PutTopicPolicy(ctx, arn, merged.Raw)
	})
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// writeLogGrant lets log delivery write to the log bucket target under
// prefix, for source's logging (see grantOnce, as for the topic).
func (a *applier) writeLogGrant(ctx context.Context, source, target settings.BucketRef, prefix string) (int, error) {
	set := map[string]json.RawMessage{settings.SidServerAccessLogs: LogDeliveryStatement(a.partition(), target.Name, prefix, a.account)}
	return a.grantOnce("bucket:"+target.Name, set, func() (int, error) {
		rec := a.bucketRecord(target, settings.AspectPolicy, []settings.ControlID{settings.AccessLogging})
		rec.For = source.Name
		return a.mergeBucketPolicy(ctx, target, rec, set, nil)
	})
}

// grantOnce runs grant, the read-modify-write that puts the owned
// statements set into the shared document doc (a topic's or the log
// bucket's policy), unless a bucket of this run already found or put
// exactly these statements there. The grants are one statement for every
// bucket of the account (aws:SourceAccount, any source bucket), not one
// per bucket, so once one is in place no later bucket needs to read the
// document, nor write it: a run reads and writes each shared document for
// its first bucket only, however many buckets use it. The grants of one
// document wait for each other, so the buckets that need it while the
// first is in flight find it in place when that one is done, rather than
// each reading the document again. A grant that failed is not
// remembered: the next bucket that needs it makes it again, read and
// write, and the bucket it failed for says so.
func (a *applier) grantOnce(doc string, set map[string]json.RawMessage, grant func() (int, error)) (int, error) {
	unlock := a.locks.lock("grant:" + doc)
	defer unlock()
	want := string(mustJSON(set))
	if a.grants.inPlace(doc, want) {
		return 0, nil
	}
	n, err := grant()
	if err == nil {
		a.grants.remember(doc, want)
	}
	return n, err
}

// grantCache holds, per shared document, the owned statements (as JSON)
// last found or put there in this run. One value per document: a grant
// with other content (another prefix, say) replaces the remembered one,
// as its write replaces the statement.
type grantCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (g *grantCache) inPlace(doc, set string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	have, ok := g.m[doc]
	return ok && have == set
}

func (g *grantCache) remember(doc, set string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]string{}
	}
	g.m[doc] = set
}

// topicPolicy is a topic's policy as a *settings.Policy, nil when it has
// none.
func topicPolicy(t settings.Topic) *settings.Policy {
	if t.Policy == "" {
		return nil
	}
	return &settings.Policy{Raw: t.Policy}
}

// topicText is the journal's form of a topic policy: its text, or nil
// (null) when there is none.
func topicText(p *settings.Policy) *string {
	if p == nil {
		return nil
	}
	return &p.Raw
}

// pinKeys asks, before the run's first write, for the configured KMS key
// in every region where a change to apply is judged with it (a change of
// the encryption document), and returns the observer that plans buckets
// again at their turn with those answers (Options.Trusted): a key the run
// creates for one bucket must not make a later bucket's change come out
// otherwise than the plan's, which was judged before the key existed, and
// so stale.
func (a *applier) pinKeys(ctx context.Context) plan.BucketObserver {
	pinned := &pinnedKeys{Provider: a.p, ref: a.cfg.Settings.Encryption.KMSKey, m: map[string]keyAnswer{}}
	if pinned.ref == "" {
		return pinned
	}
	var regions []string
	for _, b := range a.pl.Buckets {
		if !slices.Contains(regions, b.Region) && slices.ContainsFunc(b.Changes, func(c plan.Change) bool {
			return c.Applicable(a.o.AllowImpact) && slices.Contains(settings.AspectsFor(c.Control), settings.AspectEncryption)
		}) {
			regions = append(regions, b.Region)
		}
	}
	answers := make([]keyAnswer, len(regions))
	pool(ctx, nil, len(regions), len(regions), func(i int) {
		answers[i].info, answers[i].err = a.p.DescribeKey(ctx, regions[i], pinned.ref)
	})
	for i, r := range regions {
		pinned.m[r] = answers[i]
	}
	return pinned
}

// pinnedKeys answers DescribeKey of the configured key from the answers
// taken before the run's first write; everything else is the provider's.
type pinnedKeys struct {
	Provider
	ref string
	m   map[string]keyAnswer // by region; read-only once built
}

type keyAnswer struct {
	info settings.KeyInfo
	err  error
}

func (k *pinnedKeys) DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error) {
	if ans, ok := k.m[region]; ok && ref == k.ref {
		return ans.info, ans.err
	}
	return k.Provider.DescribeKey(ctx, region, ref)
}
