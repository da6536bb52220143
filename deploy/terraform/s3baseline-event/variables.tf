variable "code_s3_bucket" {
  description = "Bucket holding the deployment package (a zip with the s3baseline binary, built for linux/arm64, named bootstrap)."
  type        = string
}

variable "code_s3_key" {
  description = "Key of the deployment package in code_s3_bucket."
  type        = string
}

variable "config_s3_bucket" {
  description = "Bucket holding the s3baseline.yaml the function runs with."
  type        = string
}

variable "config_s3_key" {
  description = "Key of the s3baseline.yaml in config_s3_bucket."
  type        = string
  default     = "s3baseline/config/s3baseline.yaml"
}

variable "evidence_bucket" {
  description = "The bucket that holds the runs' evidence under s3baseline/ (journals, reports, locks, dead letters): JOURNAL_BUCKET of deploy/iam/apply-policy.json."
  type        = string
}

variable "mode" {
  description = "plan reports drift only; apply corrects it."
  type        = string
  default     = "apply"

  validation {
    condition     = contains(["plan", "apply"], var.mode)
    error_message = "mode must be plan or apply."
  }
}

variable "function_name" {
  description = "Name of the function; its log group is /aws/lambda/<function_name>."
  type        = string
  default     = "s3baseline-event"
}

variable "reserved_concurrency" {
  description = "At most this many runs at once; the account locks serialize runs on the same account anyway."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 10
    error_message = "reserved_concurrency must be between 1 and 10."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 90
}

variable "org" {
  description = "Organization-wide: create the central bus event_bus_name, which every account of organization_id may put events on, put the rule on it, and have the function assume member_role_name in the account of each call. Each member forwards with the member/ sub-module."
  type        = bool
  default     = false
}

variable "organization_id" {
  description = "With org: the organization (o-...) whose accounts may put events on the central bus."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like o-xxxxxxxxxx."
  }
}

variable "event_bus_name" {
  description = "With org: the name of the central bus."
  type        = string
  default     = "s3baseline-events"
}

variable "member_role_name" {
  description = "The role the function assumes in each account (S3BASELINE_ROLE_NAME with org; the sts:AssumeRole resource either way)."
  type        = string
  default     = "S3BaselineRole"
}

variable "function_role_name" {
  description = "Name of the function's role, for the member roles' trust policy to name."
  type        = string
  default     = "S3BaselineEventRunner"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
