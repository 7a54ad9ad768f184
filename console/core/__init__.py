"""What the whole console shares: the home page, health check, and the commands that run it."""
