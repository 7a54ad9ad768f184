"""Connections: a Clarifai account reached through a base URL, a user id and an encrypted token."""
