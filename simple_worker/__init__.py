"""simple-worker: typed tasks on Amazon SQS."""
