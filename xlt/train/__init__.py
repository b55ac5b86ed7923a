"""Training: the one loop, task encoders, evaluation."""
