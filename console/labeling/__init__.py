"""Labeling in the console: tasks, the labeler's workspace and review (pages come later); for now, who a
console member is on a connection when they label (ConnectionMember)."""
