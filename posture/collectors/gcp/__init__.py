"""GCP collector: Resource Manager, Compute Engine, KMS, Cloud Storage, Cloud SQL and IAM."""
