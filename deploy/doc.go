// Package deploy holds what it takes to run s3baseline unattended, and the
// tests that keep it true to the code. There is no Go API here: the package
// exists so that `go test ./deploy/` checks the files below against
// providers/aws on every change.
//
// iam/ holds the IAM policies:
//
//   - plan-policy.json: an identity policy for `s3baseline plan` (drift
//     detection). Reads only; its sts:AssumeRole is limited to the read-only
//     member role S3BaselineAuditRole.
//   - apply-policy.json: an identity policy for `s3baseline apply` and
//     `s3baseline rollback`: every read of the plan policy plus the writes.
//     Its sts:AssumeRole is limited to the member role S3BaselineRole.
//   - member-role-trust.json: the trust policy of S3BaselineRole, the role
//     the tool assumes in each account (--role-name), trusting only the
//     runner role in the management account.
//   - member-audit-role-trust.json: the same for S3BaselineAuditRole, the
//     read-only member role the drift job assumes.
//
// To set up an organization: in the management account create the runner
// roles S3BaselineRunner (apply) and S3BaselineAuditRunner (drift), trusted
// by the cluster's IRSA OIDC provider, and attach apply-policy.json and
// plan-policy.json to them. In every member account (and in the management
// account too, if its buckets are in scope) create S3BaselineRole with
// member-role-trust.json and apply-policy.json, and S3BaselineAuditRole
// with member-audit-role-trust.json and plan-policy.json. Replace the
// upper-case placeholders first: MANAGEMENT_ACCOUNT_ID (12 digits),
// ORGANIZATION_ID (o-...) and JOURNAL_BUCKET (the bucket, in the management
// account, that holds the runs' evidence under s3baseline/: journals/,
// reports/ and the account locks in locks/; the object actions are granted
// on it alone, so that neither role can read or write the objects of the
// buckets it baselines, and the drift role may write only its reports).
// Keep versioning on for that bucket and a lifecycle rule that expires old
// journals and reports once past your retention. Create the runner roles
// before the member roles:
// IAM refuses a trust policy whose principal role does not exist yet. The
// ARNs are written for the aws partition and for roles without a path;
// adjust them for aws-us-gov or aws-cn, or a --role-name with a path.
// The policies use "Resource": "*" where the tool's names are configurable;
// scope them to your buckets, keys, topics and trail where your naming
// allows. The policies never grant shield:Create* (Shield Advanced is a
// one-year commitment) nor any IAM write: the tool only reports on Shield
// and on IAM MFA.
//
// kubernetes/ holds the scheduled runs:
//
//   - config.yaml: a ConfigMap with the s3baseline.yaml both CronJobs read
//     (baseline medium, the default resource names); edit it to your
//     baseline and exemptions.
//   - cronjob.yaml: a ServiceAccount annotated for IRSA and a CronJob that
//     runs `s3baseline apply --auto-approve` over every account of the
//     organization as an Indexed Job, one shard of the accounts per pod.
//   - cronjob-drift.yaml: the same shape running `s3baseline plan
//     --detailed-exitcode` with the read-only roles; an index whose shard
//     has drifted fails with exit code 2, so the Job fails and alerts.
//
// Each pod writes its journal and its JSON report to emptyDir volumes, which
// die with the pod; the JSON log lines (stderr) are what remains. Mount a
// persistent volume at /work if you want to run `s3baseline rollback` on a
// scheduled run's journal later.
//
// eventdriven/ holds the event-driven deployment, as CloudFormation
// (template.yaml for one account; template-org.yaml, the central bus and
// function, with template-member.yaml forwarding from each member), and
// terraform/s3baseline-event/ the same as a Terraform module (org = true
// for the central part, member/ for the members): an EventBridge rule for
// the CloudTrail-recorded calls of event.HandledCalls invokes the binary as
// a Lambda function, whose role is apply-policy.json plus what Lambda
// needs; eventdriven/README.md says how to deploy. eventdriven_test.go
// holds every rule's pattern to event.HandledCalls, the role to
// apply-policy.json, and checks the wiring (dead-letter queue, permission,
// environment, the organization's bus policy), running cfn-lint and
// terraform fmt where they are installed.
//
// deploy_test.go derives the AWS operations the code calls from the source
// of providers/aws (every `svc.OpInput` it names), maps each to its IAM
// action and fails when a policy misses one, when the plan policy grants a
// write, when a policy grants something the code never calls, or when the
// CronJobs' sharding, flags, roles and config stop agreeing with each
// other or with the CLI (it loads the ConfigMap's s3baseline.yaml with the
// tool's own loader, and looks up every flag in package main). A new SDK
// operation in providers/aws therefore fails `go test ./deploy/` until its
// IAM action is written down in deploy_test.go and granted here.
package deploy
