"""Console accounts: sign in, sign out, change password (Django's auth views with our templates)."""
