"""Background work: the Huey queues and their tasks, grouped by concern."""
