"""tugas: the tasks service (SKP plans, tasks, approval with a quality rating)."""
