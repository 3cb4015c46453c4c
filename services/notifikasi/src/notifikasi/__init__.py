"""notifikasi: the notification service (inboxes, live streams)."""
