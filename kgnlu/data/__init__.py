"""Text data: tokenizers (train, save, load), and — from later parts — corpora, pretraining
instances and collators, QA data sets."""
