variable "central_event_bus_arn" {
  description = "The event_bus_arn output of the parent module applied with org = true."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an event bus ARN."
  }
}

variable "name" {
  description = "Name of the rule (and prefix of the role's name)."
  type        = string
  default     = "s3baseline-forward"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
