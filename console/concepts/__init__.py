"""Console pages for concepts: the list of an app's concepts with search, creating and renaming them."""
