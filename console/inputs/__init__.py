"""Console pages for inputs: the grid of thumbnails, an input's detail, editing, deleting, its pictures."""
