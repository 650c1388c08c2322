"""In-site notifications, with an optional e-mail hook."""
