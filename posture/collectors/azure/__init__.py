"""The Azure collector (azure-identity + the azure-mgmt SDKs); see ``collector.py``."""
