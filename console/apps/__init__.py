"""Console pages for Clarifai apps: the list of a connection's apps, creating one, an app's overview."""
