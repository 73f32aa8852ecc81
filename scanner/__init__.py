"""The camera scanner: capture, decoding, duplicate suppression and the offline outbox.
Never imports `app`."""
