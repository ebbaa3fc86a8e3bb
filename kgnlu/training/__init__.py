"""The trainer's parts: LAMB, optimizers and schedules by name, checkpoints, metrics, DDP helpers.
The trainer itself is :mod:`kgnlu.training.trainer`."""
