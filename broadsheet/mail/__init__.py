"""Mail out: the SMTP mailer, digests, their delivery ledger, subscriptions."""
